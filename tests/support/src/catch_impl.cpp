// Catch2's implementation without its main(), for programs that use the test helpers but are
// not test runners (the benchmarks).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
