// vdictl's login on disk: the broker's address, how its certificate is trusted, and the bearer
// token, in $XDG_CONFIG_HOME/vdi/vdictl.json (default ~/.config/vdi/vdictl.json).
//
// The directory is created 0700 and the file written 0600 (atomically: a temporary file,
// fsync, rename), so the token is readable by its owner only; a file that others may read is
// refused rather than used. Errors are vdi::Error naming the file and what to do.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace vdi::admin {

struct StoredLogin {
    std::string broker;                  // BrokerAddress::url()
    std::optional<std::string> ca_file;  // absolute path, or
    std::optional<std::string> pin;      // "AB:CD:..." (neither: the system's trust store)
    std::string token;
    std::string username;
    std::string role;
    std::string expires_at;  // as the broker said (ISO 8601)
};

class CredentialStore {
public:
    explicit CredentialStore(std::filesystem::path file) : file_(std::move(file)) {}

    // $XDG_CONFIG_HOME/vdi/vdictl.json when that variable holds an absolute path, else
    // $HOME/.config/vdi/vdictl.json; vdi::Error when neither is set.
    static std::filesystem::path default_file();

    const std::filesystem::path& file() const { return file_; }
    // nullopt when there is no file; vdi::Error when it is unreadable, malformed, or readable
    // by others.
    std::optional<StoredLogin> load() const;
    void save(const StoredLogin& login) const;
    // True if there was a file to delete.
    bool remove() const;

private:
    std::filesystem::path file_;
};

}  // namespace vdi::admin
