// Refresh on logoff for real: a user types into the demo desktop over VNC and logs off; the host
// agent replaces the clone from the golden image; the next user, handed the same desktop, sees
// the golden state (the text is gone). Also: session activity, and refresh warnings shown on the
// user's screen.
#include <fstream>

#include <catch2/catch.hpp>

#include "vdi/common/api/json.h"
#include "vdi/test/demo_screen.h"
#include "e2e_backend.h"
#include "vdi/test/vnc_viewer.h"

using namespace std::chrono_literals;
using nlohmann::json;

using vnc_viewer::Viewer;

TEST_CASE("refresh on logoff: the next user of a floating desktop sees the golden image, not the last user's text",
          "[kvm][hostd][broker][refresh]")
{
    e2e::Backend backend(1, {"ruth", "sam"});
    vdi::test::BrokerProcess broker(backend.db.dsn(), "refresh");
    auto client = broker.client();

    const auto ruth = backend.login(*client, "ruth");
    const auto first = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, ruth);
    REQUIRE(first.status == 200);
    {
        auto vnc = Viewer::connect(first.json()["port"], first.json()["ticket"]);
        REQUIRE(vnc);
        vnc->pump(300);
        const demo_screen::Layout layout(vnc->width(), vnc->height());
        vnc->type("secret");
        CHECK(vdi::test::wait_until(
            [&] {
                vnc->pump(50);
                return demo_screen::text_at(*vnc, layout.text_x, layout.text_y, "secret", demo_screen::text_color,
                                            demo_screen::window_color);
            },
            20s));
    }
    const auto generation = backend.tx([&](pqxx::work& t) {
        return t.exec1("SELECT generation FROM desktops WHERE name = 'demo-1'")[0].as<long>();
    });
    const auto logoff = client->post(
        "/api/v1/sessions/" + std::to_string(first.json()["session_id"].get<long long>()) + "/logoff", json::object(), ruth);
    REQUIRE(logoff.json()["refresh"] == true);
    // the host agent replaces the clone; the desktop is handed out again only once it is ready
    REQUIRE(vdi::test::wait_until([&] { return backend.ready() == 1; }, 60s));

    const auto sam = backend.login(*client, "sam");
    const auto second = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, sam);
    REQUIRE(second.status == 200);
    CHECK(second.json()["desktop"] == "demo-1");  // the same desktop...
    CHECK(backend.tx([&](pqxx::work& t) {
              return t.exec1("SELECT generation FROM desktops WHERE name = 'demo-1'")[0].as<long>();
          }) == generation + 1);  // ...at a new generation
    auto vnc = Viewer::connect(second.json()["port"], second.json()["ticket"]);
    REQUIRE(vnc);
    const demo_screen::Layout layout(vnc->width(), vnc->height());
    // the golden desktop is drawn (its notes window title), and ruth's text is not there
    REQUIRE(vdi::test::wait_until(
        [&] {
            vnc->pump(50);
            return demo_screen::text_at(*vnc, layout.win_x + 8, layout.win_y + 3, "Notes - type here",
                                        demo_screen::bar_text, demo_screen::title_color);
        },
        20s));
    CHECK_FALSE(demo_screen::text_at(*vnc, layout.text_x, layout.text_y, "secret", demo_screen::text_color,
                                     demo_screen::window_color));
}

TEST_CASE("host agent: typing keeps a session active, a session whose client left becomes disconnected",
          "[kvm][hostd][broker]")
{
    e2e::Backend backend(1, {"ruth"}, {"--client-grace-s", "2"});
    vdi::test::BrokerProcess broker(backend.db.dsn(), "activity");
    auto client = broker.client();
    const auto ruth = backend.login(*client, "ruth");
    const auto connected = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, ruth);
    REQUIRE(connected.status == 200);
    const auto session = std::to_string(connected.json()["session_id"].get<long long>());
    const auto activity = [&] {
        return backend.tx([&](pqxx::work& t) {
            return vdi::db::parse_timestamp(t.exec1("SELECT last_activity_at FROM sessions WHERE id = " + session)[0].as<std::string>());
        });
    };
    const auto state = [&] {
        return backend.tx([&](pqxx::work& t) { return t.exec1("SELECT state FROM sessions WHERE id = " + session)[0].as<std::string>(); });
    };
    const auto connected_at = activity();
    {
        auto vnc = Viewer::connect(connected.json()["port"], connected.json()["ticket"]);
        REQUIRE(vnc);
        // while the user is connected and typing the session stays active, and its activity moves on
        for (int i = 0; i < 8; ++i) {
            vnc->type("a");
            vnc->pump(500);
        }
        CHECK(state() == "active");
        CHECK(activity() > connected_at + std::chrono::seconds(1));
    }
    // the client went away: after the 2 s grace the host agent marks the session disconnected
    CHECK(vdi::test::wait_until([&] { return state() == "disconnected"; }, 15s));
    CHECK(client->get("/api/v1/desktops", ruth).json()["sessions"][0]["state"] == "disconnected");
}

TEST_CASE("a scheduled refresh warns the user on their own screen before the deadline",
          "[kvm][hostd][broker][pool]")
{
    e2e::Backend backend(1, {"ruth", "root"});
    backend.tx([&](pqxx::work& t) { t.exec("UPDATE users SET role = 'admin' WHERE username = 'root'"); });
    {
        std::ofstream(backend.dir / "pm.toml") << "[database]\ndsn = \"" << backend.db.dsn()
                                                << "\"\n[pool_manager]\nname = \"pm-warn\"\ninterval_ms = 200\n";
    }
    vdi::test::ChildProcess manager({VDI_POOL_MANAGER, "--config", (backend.dir / "pm.toml").string()},
                                    (backend.dir / "pm.log").string());
    vdi::test::BrokerProcess broker(backend.db.dsn(), "warn");
    auto client = broker.client();
    const auto ruth = backend.login(*client, "ruth");
    const auto connected = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, ruth);
    REQUIRE(connected.status == 200);
    auto vnc = Viewer::connect(connected.json()["port"], connected.json()["ticket"]);
    REQUIRE(vnc);
    vnc->pump(300);
    const std::uint32_t banner_y = vnc->height() - demo_screen::notice_height + 4;
    CHECK_FALSE(demo_screen::text_at(*vnc, 8, banner_y, "This desktop", demo_screen::bar_text, demo_screen::notice_color));

    // the admin refreshes the pool; ruth's desktop is in use, so she is warned first
    const auto root = backend.login(*client, "root");
    REQUIRE(client->post("/api/v1/admin/pools/" + std::to_string(backend.pool.id) + "/refresh",
                         {{"force_after_s", 3600}}, root)
                .status == 201);
    CHECK(vdi::test::wait_until(
        [&] {
            vnc->pump(50);
            return demo_screen::text_at(*vnc, 8, banner_y, "This desktop will be refreshed at", demo_screen::bar_text,
                                        demo_screen::notice_color);
        },
        30s));
    const auto listed = client->get("/api/v1/desktops", ruth).json()["sessions"][0];
    CHECK_THAT(listed["warning"].get<std::string>(), Catch::Contains("save your work"));
    // the deadline comes as a time too, about an hour ahead, for the thin client's countdown
    const auto deadline = vdi::api::parse_iso8601(listed["warning_deadline"].get<std::string>());
    const auto ahead = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::system_clock::now());
    CHECK(ahead.count() > 3500);
    CHECK(ahead.count() <= 3600);
    // she logs off: the refresh happens at once, the job completes
    REQUIRE(client->post("/api/v1/sessions/" + std::to_string(connected.json()["session_id"].get<long long>()) + "/logoff",
                         json::object(), ruth)
                .status == 200);
    CHECK(vdi::test::wait_until(
        [&] {
            return backend.tx([&](pqxx::work& t) {
                return t.exec1("SELECT count(*) FROM jobs WHERE state = 'succeeded'")[0].as<int>();
            }) == 1;
        },
        30s));
}
