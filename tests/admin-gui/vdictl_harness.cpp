// vdictl test harness.
#include "vdictl_harness.h"

#include <cstdio>
#include <stdexcept>

#include <unistd.h>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "vdi/common/db/database.h"

namespace vdi::test {
namespace fs = std::filesystem;

VdictlFixture::VdictlFixture()
{
    static int counter = 0;
    config_home_ = fs::temp_directory_path() / fmt::format("vdictl-test-{}-{}", ::getpid(), ++counter);
    fs::remove_all(config_home_);
    fs::create_directories(config_home_);
    broker_ = std::make_unique<BrokerProcess>(db_.dsn(), "vdictl");
}

VdictlFixture::~VdictlFixture()
{
    broker_.reset();
    std::error_code ignored;
    fs::remove_all(config_home_, ignored);
}

std::string VdictlFixture::url() const
{
    return "https://127.0.0.1:" + std::to_string(broker_->port());
}

ProcessResult VdictlFixture::run(const std::vector<std::string>& args, const std::string& input,
                                 const std::vector<std::string>& env) const
{
    std::vector<std::string> argv = {"/usr/bin/env", "-u", "VDI_BROKER", "-u", "VDI_TOKEN", "-u", "VDI_CA",
                                     "-u",           "VDI_PIN", "XDG_CONFIG_HOME=" + config_home_.string()};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(VDICTL);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input);
}

void VdictlFixture::login_as(const std::string& username, const std::string& password, db::UserRole role)
{
    db::in_transaction(db_.connection(), "seed a user",
                       [&](pqxx::work& tx) { make_user_with_password(tx, username, password, role); });
    const auto login = run({"login", "--broker", url(), "--ca", broker_->certificate().string(), "--user", username,
                            "--password-stdin"},
                           password + "\n");
    if (login.exit_code != 0) {
        throw std::runtime_error("vdictl login failed: " + login.output);
    }
}

std::string certificate_fingerprint(const fs::path& pem)
{
    FILE* file = std::fopen(pem.c_str(), "r");
    if (file == nullptr) throw std::runtime_error("cannot open " + pem.string());
    X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    if (certificate == nullptr) throw std::runtime_error(pem.string() + " is not a PEM certificate");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(certificate, EVP_sha256(), digest, &length);
    X509_free(certificate);
    std::string out;
    for (unsigned int i = 0; i < length; ++i) out += fmt::format("{}{:02X}", i == 0 ? "" : ":", digest[i]);
    return out;
}

}  // namespace vdi::test
