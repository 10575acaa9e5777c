// Runs a fuzz target without libFuzzer: the target's seed inputs, then a fixed number of
// reproducible mutations of them (bit flips, byte changes, truncations, insertions, length-field
// changes), plus any files named on the command line. Built with AddressSanitizer and
// UndefinedBehaviorSanitizer, so a memory error fails the test. (scripts/fuzz TARGET runs the
// same target under libFuzzer for coverage-guided fuzzing.)
//
// Each target provides LLVMFuzzerTestOneInput, fuzz_seeds() and fuzz_target_name().
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
std::vector<std::vector<std::uint8_t>> fuzz_seeds();
const char* fuzz_target_name();

int main(int argc, char** argv)
{
    long iterations = 20000;
    std::vector<std::vector<std::uint8_t>> inputs;
    const auto seeds = fuzz_seeds();
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--write-seeds=", 14) == 0) {
            // valid inputs to start libFuzzer's corpus with: DIR/seed-N
            for (std::size_t n = 0; n < seeds.size(); ++n) {
                std::ofstream(std::string(argv[i] + 14) + "/seed-" + std::to_string(n), std::ios::binary)
                    .write(reinterpret_cast<const char*>(seeds[n].data()), static_cast<std::streamsize>(seeds[n].size()));
            }
            return 0;
        }
        if (std::strncmp(argv[i], "--iterations=", 13) == 0) {
            iterations = std::atol(argv[i] + 13);
            continue;
        }
        std::ifstream in(argv[i], std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    for (const auto& input : inputs) {
        LLVMFuzzerTestOneInput(input.data(), input.size());
    }
    for (const auto& seed : seeds) {
        LLVMFuzzerTestOneInput(seed.data(), seed.size());
    }

    std::mt19937_64 rng(20261122);
    for (long i = 0; i < iterations; ++i) {
        auto bytes = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !bytes.empty(); ++e) {
            const std::size_t at = rng() % bytes.size();
            switch (rng() % 6) {
            case 0: bytes[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
            case 1: bytes[at] = static_cast<std::uint8_t>(rng()); break;
            case 2: bytes.resize(at); break;
            case 3: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng())); break;
            case 4: {  // a length or count field set to something large
                const std::uint32_t big = static_cast<std::uint32_t>(rng());
                if (at + 4 <= bytes.size()) std::memcpy(bytes.data() + at, &big, 4);
                break;
            }
            default: bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at)); break;
            }
        }
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
    std::printf("%s survived %ld mutated inputs\n", fuzz_target_name(), iterations);
    return 0;
}
