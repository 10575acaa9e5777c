// vdictl's stored login: locating, reading and writing it with owner-only permissions.
#include "credential_store.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vdi/common/error.h"

namespace vdi::admin {
namespace fs = std::filesystem;

namespace {

// Owns the temporary file's descriptor until it is closed on purpose.
class OwnedFd {
public:
    explicit OwnedFd(int fd) : fd_(fd) {}
    ~OwnedFd()
    {
        if (fd_ >= 0) ::close(fd_);
    }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    int get() const { return fd_; }
    // Closes now, reporting the error a deferred write may only show here.
    int close_now()
    {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

private:
    int fd_;
};

Error file_error(const fs::path& file, const std::string& doing)
{
    return Error(fmt::format("cannot {} {}: {}", doing, file.string(), std::strerror(errno)));
}

}  // namespace

fs::path CredentialStore::default_file()
{
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg != nullptr && xdg[0] == '/') {  // relative values are to be ignored (XDG base directory spec)
        return fs::path(xdg) / "vdi" / "vdictl.json";
    }
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] == '\0') {
        throw Error("neither $XDG_CONFIG_HOME nor $HOME is set, so there is nowhere to keep the login; set one");
    }
    return fs::path(home) / ".config" / "vdi" / "vdictl.json";
}

std::optional<StoredLogin> CredentialStore::load() const
{
    struct stat info {};
    if (::stat(file_.c_str(), &info) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw file_error(file_, "read the login in");
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw Error(fmt::format("{} holds a token but others may read it (mode {:04o}); delete it and run "
                                "'vdictl login' again",
                                file_.string(), info.st_mode & 07777));
    }
    std::ifstream in(file_);
    if (!in) throw file_error(file_, "read the login in");
    std::stringstream text;
    text << in.rdbuf();
    const auto json = nlohmann::json::parse(text.str(), nullptr, false);
    const auto text_field = [&](const char* key) -> std::string {
        if (!json.contains(key) || !json[key].is_string()) {
            throw Error(fmt::format("{} is not a vdictl login (no '{}'); delete it and run 'vdictl login' again",
                                    file_.string(), key));
        }
        return json[key].get<std::string>();
    };
    if (!json.is_object()) {
        throw Error(fmt::format("{} is not valid JSON; delete it and run 'vdictl login' again", file_.string()));
    }
    StoredLogin login;
    login.broker = text_field("broker");
    login.token = text_field("token");
    login.username = json.value("username", "");
    login.role = json.value("role", "");
    login.expires_at = json.value("expires_at", "");
    if (json.contains("ca_file") && json["ca_file"].is_string()) login.ca_file = json["ca_file"].get<std::string>();
    if (json.contains("pin") && json["pin"].is_string()) login.pin = json["pin"].get<std::string>();
    return login;
}

void CredentialStore::save(const StoredLogin& login) const
{
    const fs::path dir = file_.parent_path();
    std::error_code error;
    if (!fs::exists(dir, error)) {
        // the parents as usual; the last directory, which holds the token, for its owner only
        fs::create_directories(dir.parent_path(), error);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw file_error(dir, "create the directory");
    } else {
        struct stat info {};
        if (::stat(dir.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
            ::chmod(dir.c_str(), 0700) != 0) {
            throw file_error(dir, "restrict to its owner (chmod 700)");
        }
    }
    nlohmann::json json = {{"broker", login.broker},     {"token", login.token}, {"username", login.username},
                           {"role", login.role},         {"expires_at", login.expires_at}};
    if (login.ca_file) json["ca_file"] = *login.ca_file;
    if (login.pin) json["pin"] = *login.pin;
    const std::string text = json.dump(2) + "\n";

    const fs::path temporary = file_.string() + ".tmp";
    ::unlink(temporary.c_str());
    OwnedFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) throw file_error(temporary, "create");
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const Error failure = file_error(temporary, "write");
            ::unlink(temporary.c_str());
            throw failure;
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || fd.close_now() != 0) {
        const Error failure = file_error(temporary, "write");
        ::unlink(temporary.c_str());
        throw failure;
    }
    if (::rename(temporary.c_str(), file_.c_str()) != 0) {
        const Error failure = file_error(file_, "replace");
        ::unlink(temporary.c_str());
        throw failure;
    }
}

bool CredentialStore::remove() const
{
    if (::unlink(file_.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw file_error(file_, "delete");
}

}  // namespace vdi::admin
