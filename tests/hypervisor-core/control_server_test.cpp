// The control socket's closed set of commands (its table), on a machine of the fake backend.
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vdi/hv/control_server.h"
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
                                            "identity", "notice", "snapshot", "display_ticket"});
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
          "mouse, identity, notice, snapshot, display_ticket)");
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
    // arguments a command does not know are ignored, as before (--identity passes its JSON on)
    CHECK(handler.handle({{"cmd", "mouse"}, {"dx", 1}, {"dy", -1}, {"comment", "hi"}})["ok"] == true);
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
    CHECK(handler.handle({{"cmd", "stop"}})["ok"] == true);
    const auto stopped = machine.wait(5s);
    REQUIRE(stopped);
    CHECK(stopped->reason == "stopped through the control socket");
}
