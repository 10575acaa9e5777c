// The control socket's closed set of commands (its table), on a machine of the fake backend.
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vdi/hv/control_server.h"
#include "vdi/hv/display/one_time_ticket.h"
#include "vdi/hv/machine.h"
#include "vdi/test/fake_hypervisor.h"
#include "vdi/test/guest_images.h"

using namespace vdi::hv;
using namespace std::chrono_literals;
using Json = nlohmann::json;

TEST_CASE("control commands: the table is the documented closed set", "[control]")
{
    std::vector<std::string> names;
    for (const auto& command : ControlServer::Handler::table()) {
        names.emplace_back(command.name);
        CHECK(command.run != nullptr);
        std::set<std::string> arguments;
        for (const auto& argument : command.arguments) {
            CHECK(arguments.insert(argument.name).second);
        }
    }
    CHECK(names == std::vector<std::string>{"status", "pause", "resume", "stop", "screenshot", "key", "type", "mouse",
                                            "identity", "notice", "snapshot", "display_ticket",
                                            "display_events"});
}

TEST_CASE("control commands: unknown commands and malformed requests are refused, naming what is accepted",
          "[control]")
{
    FakeHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    ControlServer::Handler handler(machine);

    const Json unknown = handler.handle({{"cmd", "reboot-the-host"}});
    CHECK(unknown["ok"] == false);
    CHECK(unknown["error"] ==
          "unknown cmd 'reboot-the-host' (the commands are status, pause, resume, stop, screenshot, key, type, "
          "mouse, identity, notice, snapshot, display_ticket, display_events)");
    for (const Json& malformed : {Json::array({"status"}), Json{{"command", "status"}}, Json{{"cmd", 7}}}) {
        const Json response = handler.handle(malformed);
        CHECK(response["ok"] == false);
        CHECK(response["error"] == "a request is an object with a string \"cmd\"");
    }
    CHECK(machine.state() == RunState::created);
}

TEST_CASE("control commands: arguments are checked against the table before a command runs", "[control]")
{
    FakeHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    ControlServer::Handler handler(machine);

    const Json missing = handler.handle({{"cmd", "key"}});
    CHECK(missing["ok"] == false);
    CHECK(missing["error"] == "bad arguments: key needs \"code\" (an integer)");
    const Json mistyped = handler.handle({{"cmd", "key"}, {"code", 28}, {"down", "yes"}});
    CHECK(mistyped["error"] == "bad arguments: \"down\" of key must be true or false");
    CHECK(handler.handle({{"cmd", "type"}, {"text", 5}})["error"] == "bad arguments: \"text\" of type must be a string");
    CHECK(handler.handle({{"cmd", "identity"}, {"host", "desk-1"}})["error"] ==
          "bad arguments: identity needs \"user\" (a string)");
    CHECK(handler.handle({{"cmd", "snapshot"}})["error"] == "bad arguments: snapshot needs \"dir\" (a string)");
    // a command's own checks still apply once its arguments have the right types
    CHECK(handler.handle({{"cmd", "key"}, {"code", 999}})["error"] == "key code must be 1..255 (scancode set 2)");
    CHECK(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "abcdefgh"}, {"ttl_s", 0}})["error"] ==
          "ttl_s must be 1..3600");
    CHECK(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "abcdefgh"}})["error"] ==
          "this VM serves no vnc display");
    CHECK(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "abcdefgh"}, {"trace", -4}})["error"] ==
          "trace must be a trace id (0 or more)");
    CHECK(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "abcdefgh"}, {"trace", "x"}})["error"] ==
          "bad arguments: \"trace\" of display_ticket must be an integer");
    // arguments a command does not know are ignored, as before (--identity passes its JSON on)
    CHECK(handler.handle({{"cmd", "mouse"}, {"dx", 1}, {"dy", -1}, {"comment", "hi"}})["ok"] == true);
}

namespace {

// A display server without a protocol behind it: its tickets and trace log are the real ones.
class RecordingDisplay : public DisplayServer {
public:
    std::string protocol() const override { return "vnc"; }
    int port() const override { return 5900; }
    void set_ticket(const std::string& ticket, std::chrono::seconds ttl, std::int64_t trace_id) override
    {
        ticket_.set(ticket, ttl, trace_id);
    }
    std::vector<DisplayTrace> take_traces() override { return log.take(); }
    int clients() const override { return 0; }
    void start() override {}
    // a client that presents `secret` 3 ms after its accept, checked in 1 ms
    void client(const void* who, const std::string& secret)
    {
        const auto accepted = DisplayTraceLog::Clock::now();
        const auto taken = ticket_.take();
        if (!taken || taken->secret != secret) return;
        log.authenticated(who, taken->trace_id, accepted, accepted + 3ms, accepted + 4ms);
    }

    DisplayTraceLog log{"vnc"};

private:
    OneTimeTicket ticket_;
};

}  // namespace

TEST_CASE("control commands: a traced ticket's client is reported once, after its first update", "[control][timing]")
{
    FakeHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    RecordingDisplay display;
    ControlServer::Handler handler(machine, {&display});

    CHECK(handler.handle({{"cmd", "display_events"}}) == Json{{"ok", true}, {"traces", Json::array()}});
    REQUIRE(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "t1"}, {"trace", 42}})["ok"] == true);
    const int first = 1, second = 2, untraced = 3;
    display.client(&first, "t1");
    CHECK(display.log.waiting(&first));
    // not complete before its first update
    CHECK(handler.handle({{"cmd", "display_events"}})["traces"].empty());
    display.log.first_update_sent(&first, DisplayTraceLog::Clock::now() + 10ms);
    CHECK_FALSE(display.log.waiting(&first));
    // a client that leaves before its first update is not reported; nor is one with an untraced ticket
    REQUIRE(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "t2"}, {"trace", 43}})["ok"] == true);
    display.client(&second, "t2");
    display.log.client_gone(&second);
    display.log.first_update_sent(&second, DisplayTraceLog::Clock::now());
    REQUIRE(handler.handle({{"cmd", "display_ticket"}, {"protocol", "vnc"}, {"ticket", "t3"}})["ok"] == true);
    display.client(&untraced, "t3");
    CHECK_FALSE(display.log.waiting(&untraced));

    const Json events = handler.handle({{"cmd", "display_events"}});
    REQUIRE(events["traces"].size() == 1);
    const Json& trace = events["traces"][0];
    CHECK(trace["trace"] == 42);
    CHECK(trace["protocol"] == "vnc");
    REQUIRE(trace["stages"].size() == 3);
    CHECK(trace["stages"][0] == Json::array({"handshake", 0, 3000}));
    CHECK(trace["stages"][1] == Json::array({"authentication", 3000, 1000}));
    CHECK(trace["stages"][2][0] == "first_update");
    CHECK(trace["stages"][2][1] == 4000);
    CHECK(trace["stages"][2][2].get<long>() >= 6000);
    // taken: the next call has nothing
    CHECK(handler.handle({{"cmd", "display_events"}})["traces"].empty());
}

TEST_CASE("control commands: each row reaches the machine", "[control]")
{
    FakeHypervisor hv;
    Machine machine(hv, guest_images::demo_config());
    ControlServer::Handler handler(machine);
    machine.start();

    const Json status = handler.handle({{"cmd", "status"}});
    CHECK(status["ok"] == true);
    CHECK(status["state"] == "running");
    CHECK(status["memory_mib"] == 64);
    CHECK(handler.handle({{"cmd", "type"}, {"text", "ok"}})["keys"] == 2);
    CHECK(handler.handle({{"cmd", "type"}, {"text", "\x01"}})["ok"] == false);
    CHECK(handler.handle({{"cmd", "key"}, {"code", 28}, {"down", false}})["ok"] == true);
    CHECK(handler.handle({{"cmd", "pause"}})["state"] == "paused");
    CHECK(machine.state() == RunState::paused);
    CHECK(handler.handle({{"cmd", "resume"}})["state"] == "running");
    const Json screenshot = handler.handle({{"cmd", "screenshot"}});
    CHECK(screenshot["ok"] == true);
    CHECK_FALSE(screenshot["png_base64"].get<std::string>().empty());
    CHECK(handler.handle({{"cmd", "display_events"}}) == Json{{"ok", true}, {"traces", Json::array()}});
    CHECK(handler.handle({{"cmd", "stop"}})["ok"] == true);
    const auto stopped = machine.wait(5s);
    REQUIRE(stopped);
    CHECK(stopped->reason == "stopped through the control socket");
}
