// UniqueFd: the one owner of a POSIX file descriptor (closes it once, on destruction or reset()).
//
// Header-only and dependency-free on purpose: it is exposed through the INTERFACE target
// `vdi-base` (common/CMakeLists.txt), which the VMM library vdi-hv links without linking
// vdi-common (and so without libpqxx), and which vdi-common, the services and tests link too.
//
// Errors: none thrown. close() errors on destruction are ignored (the descriptor is gone either
// way, see close(2)); where a close error means lost data (a file just written), call
// close_checked() and handle the errno it returns.
//
// Threads: like an int, a UniqueFd is not synchronised; one thread owns it at a time.
#pragma once

#include <cerrno>
#include <unistd.h>

namespace vdi {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    // Takes ownership of fd; -1 (or any negative value) means "none".
    explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
    ~UniqueFd() { reset(); }

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept
    {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // Gives up ownership without closing; the caller closes the returned descriptor.
    [[nodiscard]] int release() noexcept
    {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

    // Closes the owned descriptor (if any) and takes ownership of fd.
    void reset(int fd = -1) noexcept
    {
        const int old = fd_;
        fd_ = fd < 0 ? -1 : fd;
        if (old >= 0 && old != fd_) {
            ::close(old);
        }
    }

    // Closes the owned descriptor now and reports the outcome: 0, or the errno of close(2)
    // (EIO, ENOSPC, EDQUOT on some file systems mean written data did not reach the disk).
    // Afterwards the UniqueFd is empty; closing an empty one returns 0.
    [[nodiscard]] int close_checked() noexcept
    {
        const int fd = release();
        if (fd < 0) {
            return 0;
        }
        return ::close(fd) == 0 ? 0 : errno;
    }

private:
    int fd_ = -1;
};

}  // namespace vdi
