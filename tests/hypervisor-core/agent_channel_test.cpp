// The guest agent channel's line protocol.
#include <thread>

#include <catch2/catch.hpp>

#include "recording_line.h"
#include "vdi/hv/devices/agent_channel.h"

using namespace vdi::hv;

namespace {

std::string guest_reads(AgentChannel& agent)
{
    std::string out;
    for (;;) {
        std::uint8_t lsr = 0;
        agent.uart().read(5, std::span(&lsr, 1));
        if (!(lsr & 1)) {
            return out;
        }
        std::uint8_t c = 0;
        agent.uart().read(0, std::span(&c, 1));
        out.push_back(static_cast<char>(c));
    }
}

void guest_writes(AgentChannel& agent, const std::string& text)
{
    for (char c : text) {
        const auto byte = static_cast<std::uint8_t>(c);
        agent.uart().write(0, std::span<const std::uint8_t>(&byte, 1));
    }
}

}  // namespace

TEST_CASE("agent: identity goes to the guest as one key=value line", "[devices][agent]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    agent.send_identity({"desk-7", "alice", std::string(64, 'a'), 1795145109000});
    CHECK(guest_reads(agent) ==
          "identity host=desk-7 user=alice seed=" + std::string(64, 'a') + " time_ms=1795145109000\n");
    CHECK_THROWS_AS(agent.send_identity({"two words", "alice", "00", 1}), HvError);
    CHECK_THROWS_AS(agent.send_identity({"desk", "bob\nready", "00", 1}), HvError);
    CHECK_THROWS_AS(agent.send_identity({"desk", "bob", "", 1}), HvError);
}

TEST_CASE("agent: hello and ready lines from the guest are counted, split writes too", "[devices][agent]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    int callbacks = 0;
    agent.on_ready([&] { ++callbacks; });
    guest_writes(agent, "hello version=3\nrea");
    CHECK(agent.agent_version() == 3);
    CHECK(agent.ready_count() == 0);
    std::thread late([&] { guest_writes(agent, "dy\nlog all good\nnonsense\n"); });
    CHECK(agent.wait_ready(1, std::chrono::seconds(5)));
    late.join();
    CHECK(agent.ready_count() == 1);
    CHECK(callbacks == 1);
    CHECK_FALSE(agent.wait_ready(2, std::chrono::milliseconds(10)));
}

TEST_CASE("agent: state survives save -> restore", "[devices][agent][state]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    guest_writes(agent, "ready\nhello version=2\nrea");
    agent.send_identity({"h", "u", "ab", 5});
    const auto state = agent.save();
    RecordingLine irq2;
    AgentChannel copy(irq2);
    copy.restore(state);
    CHECK(copy.ready_count() == 1);
    CHECK(copy.agent_version() == 2);
    guest_writes(copy, "dy\n");  // the half line from before the snapshot completes
    CHECK(copy.ready_count() == 2);
    CHECK(guest_reads(copy) == "identity host=h user=u seed=ab time_ms=5\n");
}
