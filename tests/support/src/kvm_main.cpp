// Catch2 main for tests that need /dev/kvm: without it, say why and exit 77 (ctest: SKIPPED).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "vdi/common/unique_fd.h"

int main(int argc, char** argv)
{
    // listing the test cases (ctest discovery) needs no KVM
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--list", 6) == 0) {
            return Catch::Session().run(argc, argv);
        }
    }
    const vdi::UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!kvm) {
        std::printf("SKIPPED: these tests need /dev/kvm, which cannot be opened here (%s)\n", std::strerror(errno));
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
