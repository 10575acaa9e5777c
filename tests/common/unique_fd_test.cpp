// vdi::UniqueFd: each descriptor is closed exactly once, by its one owner.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <type_traits>
#include <unistd.h>
#include <utility>

#include "vdi/common/unique_fd.h"

using vdi::UniqueFd;

namespace {

bool is_open(int fd)
{
    return ::fcntl(fd, F_GETFD) != -1;
}

// Both ends of a fresh pipe, owned by the caller.
std::pair<int, int> raw_pipe()
{
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    return {fds[0], fds[1]};
}

}  // namespace

static_assert(!std::is_copy_constructible_v<UniqueFd> && !std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd> && std::is_nothrow_move_assignable_v<UniqueFd>);
static_assert(!std::is_convertible_v<UniqueFd, bool>, "explicit operator bool only");

TEST_CASE("UniqueFd: empty by default and for a failed open", "[unique_fd]")
{
    const UniqueFd none;
    CHECK_FALSE(none);
    CHECK(none.get() == -1);
    const UniqueFd failed(::open("/nonexistent/vdi-unique-fd-test", O_RDONLY | O_CLOEXEC));
    CHECK_FALSE(failed);
    CHECK(failed.get() == -1);
}

TEST_CASE("UniqueFd: closes its descriptor when it goes away", "[unique_fd]")
{
    const auto [read_end, write_end] = raw_pipe();
    {
        const UniqueFd r(read_end);
        const UniqueFd w(write_end);
        CHECK(r);
        CHECK(r.get() == read_end);
        CHECK(is_open(read_end));
    }
    CHECK_FALSE(is_open(read_end));
    CHECK_FALSE(is_open(write_end));
}

TEST_CASE("UniqueFd: a move hands the descriptor over, the source closes nothing", "[unique_fd]")
{
    const auto [read_end, write_end] = raw_pipe();
    UniqueFd w(write_end);
    UniqueFd a(read_end);
    UniqueFd b(std::move(a));
    CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
    CHECK(b.get() == read_end);
    {
        UniqueFd c;
        c = std::move(b);
        CHECK(c.get() == read_end);
        CHECK(is_open(read_end));
    }
    CHECK_FALSE(is_open(read_end));
    CHECK(is_open(write_end));
}

TEST_CASE("UniqueFd: move assignment closes the descriptor it held before", "[unique_fd]")
{
    const auto [r1, w1] = raw_pipe();
    const auto [r2, w2] = raw_pipe();
    const UniqueFd keep_w1(w1);
    const UniqueFd keep_w2(w2);
    UniqueFd target(r1);
    UniqueFd source(r2);
    target = std::move(source);
    CHECK_FALSE(is_open(r1));
    CHECK(target.get() == r2);
    CHECK(is_open(r2));
}

TEST_CASE("UniqueFd: release gives up ownership without closing, reset closes and replaces", "[unique_fd]")
{
    const auto [read_end, write_end] = raw_pipe();
    int released = -1;
    {
        UniqueFd r(read_end);
        released = r.release();
        CHECK_FALSE(r);
    }
    CHECK(released == read_end);
    CHECK(is_open(read_end));

    UniqueFd owner(released);
    owner.reset(write_end);
    CHECK_FALSE(is_open(read_end));
    CHECK(owner.get() == write_end);
    owner.reset();
    CHECK_FALSE(owner);
    CHECK_FALSE(is_open(write_end));
}

TEST_CASE("UniqueFd: close_checked closes now and reports success, an empty one reports nothing to do",
          "[unique_fd]")
{
    const auto [read_end, write_end] = raw_pipe();
    const UniqueFd w(write_end);
    UniqueFd r(read_end);
    CHECK(r.close_checked() == 0);
    CHECK_FALSE(r);
    CHECK_FALSE(is_open(read_end));
    CHECK(r.close_checked() == 0);
}
