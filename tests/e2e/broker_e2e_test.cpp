// The whole connect path for real: vdi-broker, vdi-hostd and vdi-vmm clones of the demo image on
// KVM, PostgreSQL in between. A user logs in over HTTPS and connects; the ticket in the answer
// has already reached the desktop's VMM through the host agent; a VNC client (libvncclient) and
// an RDP client (FreeRDP) authenticate with it; a reused ticket is refused.
#include <csignal>
#include <cstring>
#include <filesystem>

#include <catch2/catch.hpp>

#include "broker_harness.h"
#include "e2e_backend.h"
#include "vdi/common/db/database.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/process.h"
#include "vdi/test/rdp_client.h"
#include "vdi/test/test_database.h"
#include "vdi/test/vnc_viewer.h"

using namespace std::chrono_literals;
using nlohmann::json;
using vdi_test::RdpClient;
namespace fs = std::filesystem;

namespace {

// True if a VNC client authenticates with `password` and receives the first frame.
bool vnc_login(int port, const std::string& password)
{
    const auto viewer = vnc_viewer::Viewer::connect(port, password);
    if (!viewer) return false;
    viewer->pump(500);
    return viewer->client->frameBuffer != nullptr;
}

}  // namespace

TEST_CASE("broker, host agent and VMM: a connect's ticket opens the desktop over VNC and RDP, once",
          "[kvm][hostd][broker]")
{
    e2e::Backend backend(1, {"ruth"});
    auto& c = backend.db.connection();
    const fs::path state_dir = backend.state_dir;
    const auto& pool = backend.pool;
    vdi::test::BrokerProcess broker(backend.db.dsn(), "e2e");
    auto client = broker.client();
    const std::string token = backend.login(*client, "ruth");

    // VNC: the ticket works at once, exactly once; a made-up one never
    const auto vnc = client->post("/api/v1/desktops/demo/connect", {{"protocol", "vnc"}}, token);
    INFO(vnc.body);
    REQUIRE(vnc.status == 200);
    const int vnc_port = vnc.json()["port"];
    const std::string vnc_ticket = vnc.json()["ticket"];
    CHECK(vnc.json()["host"] == "127.0.0.1");
    CHECK(vnc_login(vnc_port, vnc_ticket));
    CHECK_FALSE(vnc_login(vnc_port, vnc_ticket));  // burned
    CHECK_FALSE(vnc_login(vnc_port, "wrong123"));

    // RDP: reconnect over the other protocol, with a fresh ticket
    const auto rdp = client->post("/api/v1/desktops/demo/connect", {{"protocol", "rdp"}}, token);
    INFO(rdp.body);
    if (rdp.status != 200) {
        // what the agent and the VMM said, for the failure message
        std::string logs = vdi::test::read_text_file((backend.dir / "hostd.log").string());
        for (const auto& entry : fs::recursive_directory_iterator(state_dir)) {
            if (entry.path().filename() == "vmm.log") logs += "\n--- " + entry.path().string() + "\n" + vdi::test::read_text_file(entry.path());
        }
        FAIL(logs.substr(logs.size() > 6000 ? logs.size() - 6000 : 0));
    }
    CHECK(rdp.json()["reconnected"] == true);
    const std::string rdp_ticket = rdp.json()["ticket"];
    // (an RDP client connects before the server checks the password and drops a refused one,
    // so "accepted" means the desktop's pixels arrive)
    const auto shows_desktop = [](RdpClient& client, std::chrono::milliseconds timeout) {
        return client.connected && vdi::test::wait_until(
                                       [&] {
                                           client.pump(50);
                                           rdpGdi* gdi = client.instance->context->gdi;
                                           return gdi != nullptr && client.pixel(gdi->width / 2, 5) != 0;
                                       },
                                       timeout);
    };
    {
        RdpClient right(rdp.json()["port"].get<int>(), rdp_ticket);
        CHECK(shows_desktop(right, 20s));
    }
    {
        RdpClient again(rdp.json()["port"].get<int>(), rdp_ticket);
        CHECK_FALSE(shows_desktop(again, 3s));  // burned
    }
    {
        RdpClient wrong(rdp.json()["port"].get<int>(), "not-the-ticket");
        CHECK_FALSE(shows_desktop(wrong, 3s));
    }
    // both deliveries recorded; no plaintext anywhere in the database
    pqxx::work tx(c);
    CHECK(tx.exec1("SELECT count(*) FROM display_tickets WHERE delivered_at IS NOT NULL")[0].as<int>() == 2);
    CHECK(tx.exec1("SELECT count(*) FROM audit_log WHERE details::text LIKE " + tx.quote("%" + vnc_ticket + "%"))[0].as<int>() == 0);
    tx.commit();

    // logoff: the host agent replaces the clone (new generation) and it becomes ready again
    const long long session = rdp.json()["session_id"];
    REQUIRE(client->post("/api/v1/sessions/" + std::to_string(session) + "/logoff", json::object(), token).json()["refresh"] == true);
    CHECK(vdi::test::wait_until(
        [&] {
            return vdi::db::in_transaction(c, "ready again?", [&](pqxx::work& t) {
                return vdi::db::DesktopRepository(t).counts(pool.id).ready;
            }) == 1;
        },
        60s));
}
