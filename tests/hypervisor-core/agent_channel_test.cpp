// The guest agent channel's line protocol.
#include <thread>
#include <vector>

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

TEST_CASE("agent: an identity may name no user, and the last one is kept without its seed", "[devices][agent]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    CHECK_FALSE(agent.last_identity());
    agent.send_identity({"desk-7", "", std::string(64, 'b'), 1});
    CHECK(guest_reads(agent) == "identity host=desk-7 user= seed=" + std::string(64, 'b') + " time_ms=1\n");
    REQUIRE(agent.last_identity());
    CHECK(agent.last_identity()->hostname == "desk-7");
    CHECK(agent.last_identity()->user.empty());
    CHECK(agent.last_identity()->seed_hex.empty());
}

TEST_CASE("agent: clipboard text both ways, percent-encoded and bounded", "[devices][agent][clipboard]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    agent.send_clipboard("a b=c%d\nK\xc3\xa4se");
    CHECK(guest_reads(agent) == "clipboard text=a%20b%3Dc%25d%0AK%C3%A4se\n");
    agent.send_clipboard("");
    CHECK(guest_reads(agent) == "clipboard text=\n");
    CHECK_THROWS_AS(agent.send_clipboard(std::string(AgentChannel::max_clipboard + 1, 'x')), HvError);
    CHECK(guest_reads(agent).empty());

    std::vector<std::string> received;
    const int id = agent.add_clipboard_listener([&](const std::string& text) { received.push_back(text); });
    guest_writes(agent, "clipboard text=hello%20world%0Aline%202\n");
    REQUIRE(received.size() == 1);
    CHECK(received[0] == "hello world\nline 2");
    guest_writes(agent, "clipboard text=" + std::string(AgentChannel::max_clipboard, 'y') + "\n");
    REQUIRE(received.size() == 2);
    CHECK(received[1].size() == AgentChannel::max_clipboard);

    // hostile or broken lines are ignored, and the channel goes on working
    guest_writes(agent, "clipboard text=" + std::string(AgentChannel::max_clipboard + 1, 'z') + "\n");  // too long
    guest_writes(agent, "clipboard text=%4\n");          // a cut escape
    guest_writes(agent, "clipboard text=%zz\n");         // not hex
    guest_writes(agent, "clipboard text=tab\there\n");   // a raw control byte
    guest_writes(agent, "clipboard\n");                  // no text at all
    guest_writes(agent, "clipboard nothing=here\n");
    guest_writes(agent, "clipboard text=" + std::string(AgentChannel::max_line + 100, 'w') + "\n");  // past the line limit
    guest_writes(agent, "clipboard text=" + std::string(AgentChannel::max_line * 3, '%') + "\n");
    CHECK(received.size() == 2);
    guest_writes(agent, "ready\nclipboard text=still%20here\n");
    CHECK(agent.ready_count() == 1);
    REQUIRE(received.size() == 3);
    CHECK(received[2] == "still here");

    agent.remove_clipboard_listener(id);
    guest_writes(agent, "clipboard text=gone\n");
    CHECK(received.size() == 3);
}

TEST_CASE("agent: a guest line longer than the limit is dropped whole, not cut", "[devices][agent]")
{
    RecordingLine irq;
    AgentChannel agent(irq);
    int received = 0;
    agent.add_clipboard_listener([&](const std::string&) { ++received; });
    // cut at 4096 bytes this would read as a clipboard of "short" (a space ends a value)
    guest_writes(agent, "clipboard text=short " + std::string(AgentChannel::max_line, 'x') + "\n");
    CHECK(received == 0);
    guest_writes(agent, "clipboard text=short\nready\n");
    CHECK(received == 1);
    CHECK(agent.ready_count() == 1);
}
