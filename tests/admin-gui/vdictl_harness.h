// Running vdictl as a real process against a real broker (and its throwaway database), with its
// own $XDG_CONFIG_HOME so that each test has its own stored login.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "broker_harness.h"
#include "vdi/test/process.h"
#include "vdi/test/test_database.h"

namespace vdi::test {

class VdictlFixture {
public:
    VdictlFixture();
    ~VdictlFixture();

    TestDatabase& db() { return db_; }
    BrokerProcess& broker() { return *broker_; }
    std::string url() const;
    const std::filesystem::path& config_home() const { return config_home_; }
    std::filesystem::path login_file() const { return config_home_ / "vdi" / "vdictl.json"; }

    // vdictl ARGS with this fixture's $XDG_CONFIG_HOME and no $VDI_* from outside; `env`:
    // more NAME=VALUE entries.
    ProcessResult run(const std::vector<std::string>& args, const std::string& input = "",
                      const std::vector<std::string>& env = {}) const;
    // A user seeded directly (cheap hash), then logged in through vdictl with --ca.
    void login_as(const std::string& username, const std::string& password, db::UserRole role);

private:
    TestDatabase db_;
    std::unique_ptr<BrokerProcess> broker_;
    std::filesystem::path config_home_;
};

// The SHA-256 fingerprint of a PEM certificate, as `openssl x509 -fingerprint -sha256` prints it.
std::string certificate_fingerprint(const std::filesystem::path& pem);

}  // namespace vdi::test
