// Runs the snapshot fuzz target without libFuzzer: a valid state file, then a fixed number of
// reproducible mutations of it (bit flips, byte changes, truncations, insertions, length-field
// changes), plus any files named on the command line. Built with AddressSanitizer and
// UndefinedBehaviorSanitizer, so a memory error fails the test. (scripts/fuzz-snapshot runs the
// same target under libFuzzer for coverage-guided fuzzing.)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "vdi/hv/snapshot/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

vdi::hv::MachineSnapshot seed_snapshot()
{
    using namespace vdi::hv;
    MachineSnapshot s;
    s.machine = {64, 1, "elf", "console=ttyS0"};
    VcpuState v;
    v.cpuid.resize(3);
    v.xsave.assign(4096, 1);
    v.msrs.resize(5);
    s.vcpus.push_back(v);
    s.vm.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s.vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s.vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    s.devices.console.receive_fifo = {1, 2, 3};
    s.devices.agent.partial_line = "rea";
    s.devices.i8042.output = {0xfa};
    s.devices.i8042.output_is_aux = {true};
    s.regions = {{"ram", 0, 64ull << 20, 0}, {"framebuffer", 0xe0000000, 3ull << 20, 64ull << 20}};
    return s;
}

}  // namespace

int main(int argc, char** argv)
{
    long iterations = 20000;
    std::vector<std::vector<std::uint8_t>> inputs;
    const auto seed = vdi::hv::encode_snapshot(seed_snapshot());
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--write-seed=", 13) == 0) {
            // a valid state file to start libFuzzer's corpus with
            std::ofstream(argv[i] + 13, std::ios::binary)
                .write(reinterpret_cast<const char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
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
    LLVMFuzzerTestOneInput(seed.data(), seed.size());

    std::mt19937_64 rng(20261122);
    for (long i = 0; i < iterations; ++i) {
        auto bytes = seed;
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
    std::printf("snapshot parser survived %ld mutated state files\n", iterations);
    return 0;
}
