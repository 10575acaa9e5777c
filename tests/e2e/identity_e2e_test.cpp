// The desktop knows its user: the host agent tells a desktop who connects (with the session's
// ticket) and that nobody is assigned once they log off, so the next user of a desktop that is not
// refreshed never sees the previous user's name. Real broker, host agent, VMM and demo guest.
#include <catch2/catch.hpp>

#include "e2e_backend.h"
#include "vdi/test/demo_screen.h"
#include "vdi/test/vnc_viewer.h"

using namespace std::chrono_literals;
using nlohmann::json;
using vnc_viewer::Viewer;

namespace {

bool bar_shows_user(const Viewer& vnc, const std::string& user)
{
    // the name and the gap after it (a longer earlier name would leave its tail otherwise)
    return demo_screen::text_at(vnc, demo_screen::user_x("demo-1"), demo_screen::bar_text_y, user + "   ",
                                demo_screen::bar_text, demo_screen::bar_color);
}

}  // namespace

TEST_CASE("the desktop's top bar names the connected user, and nobody after they log off",
          "[kvm][hostd][broker][identity]")
{
    e2e::Backend backend(1, {"ruth", "sam"});
    // a pool that does not refresh on logoff: the same clone goes to the next user
    backend.tx([&](pqxx::work& t) {
        t.exec_params("UPDATE pools SET refresh_policy = 'never' WHERE id = $1", backend.pool.id);
    });
    const auto desktop_id = backend.tx([&](pqxx::work& t) {
        return t.exec1("SELECT id FROM desktops WHERE name = 'demo-1'")[0].as<long>();
    });
    const auto vmm_user = [&]() -> std::optional<std::string> {
        const auto socket = backend.state_dir / ("desktop-" + std::to_string(desktop_id)) / "control.sock";
        const auto r = vdi::test::unix_request(socket.string(), R"({"cmd":"status"})");
        if (!r) return std::nullopt;
        const auto status = json::parse(*r);
        if (!status["identity"].is_object()) return std::nullopt;
        return status["identity"]["user"].get<std::string>();
    };
    CHECK(vmm_user() == std::optional<std::string>(""));  // provisioned for nobody
    const auto generation = backend.tx([&](pqxx::work& t) {
        return t.exec1("SELECT generation FROM desktops WHERE name = 'demo-1'")[0].as<long>();
    });

    vdi::test::BrokerProcess broker(backend.db.dsn(), "identity");
    auto client = broker.client();
    const auto ruth = backend.login(*client, "ruth");
    const auto first = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, ruth);
    REQUIRE(first.status == 200);
    CHECK(vmm_user() == std::optional<std::string>("ruth"));  // told before the ticket was handed over
    {
        auto vnc = Viewer::connect(first.json()["port"], first.json()["ticket"]);
        REQUIRE(vnc);
        CHECK(vdi::test::wait_until([&] { vnc->pump(50); return bar_shows_user(*vnc, "ruth"); }, 20s));
        CHECK_FALSE(bar_shows_user(*vnc, "unassigned"));
    }
    const auto logoff = client->post(
        "/api/v1/sessions/" + std::to_string(first.json()["session_id"].get<long long>()) + "/logoff", json::object(), ruth);
    REQUIRE(logoff.status == 200);
    CHECK(logoff.json()["refresh"] == false);
    // the host agent hears the desktop released and tells it nobody is assigned
    CHECK(vdi::test::wait_until([&] { return vmm_user() == std::optional<std::string>(""); }, 20s));
    REQUIRE(vdi::test::wait_until([&] { return backend.ready() == 1; }, 20s));

    CHECK(backend.tx([&](pqxx::work& t) {
              return t.exec1("SELECT generation FROM desktops WHERE name = 'demo-1'")[0].as<long>();
          }) == generation);  // the same clone, not refreshed
    const auto sam = backend.login(*client, "sam");
    const auto second = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, sam);
    REQUIRE(second.status == 200);
    CHECK(second.json()["desktop"] == "demo-1");
    auto vnc = Viewer::connect(second.json()["port"], second.json()["ticket"]);
    REQUIRE(vnc);
    // from the first picture on, sam never sees ruth's name
    bool saw_ruth = false;
    CHECK(vdi::test::wait_until(
        [&] {
            vnc->pump(20);
            saw_ruth = saw_ruth || bar_shows_user(*vnc, "ruth");
            return bar_shows_user(*vnc, "sam");
        },
        20s));
    CHECK_FALSE(saw_ruth);
}
