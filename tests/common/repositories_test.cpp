// Round trips through every repository against a real, migrated PostgreSQL database, and the
// rules the schema enforces for the control plane.
#include <catch2/catch.hpp>

#include "vdi/common/crypto.h"
#include "vdi/common/db/api_token_repository.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/login_throttle_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/ticket_repository.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

using namespace vdi::db;
using vdi::test::TestDatabase;

namespace {

// Runs `fn` in its own committed transaction, as production code does.
template <typename Fn>
auto tx(TestDatabase& db, Fn&& fn)
{
    return in_transaction(db.connection(), "test step", std::forward<Fn>(fn), 1);
}

}  // namespace

TEST_CASE("users: create, find case-insensitively, update, groups and memberships", "[repo][users]")
{
    TestDatabase db;
    const auto alice = tx(db, [](pqxx::work& t) { return vdi::test::make_user(t, "Alice", UserRole::admin); });
    CHECK(alice.id > 0);
    CHECK(alice.role == UserRole::admin);
    CHECK_FALSE(alice.disabled);

    tx(db, [&](pqxx::work& t) {
        UserRepository users(t);
        const auto found = users.find_by_username("alice");
        REQUIRE(found);
        CHECK(found->id == alice.id);
        CHECK(found->username == "Alice");
        CHECK(found->display_name == "User Alice");
        CHECK(found->password_hash == alice.password_hash);
        CHECK_FALSE(users.find_by_username("bob"));
        CHECK(users.set_disabled(alice.id, true));
        CHECK(users.set_role(alice.id, UserRole::user));
        CHECK(users.set_password_hash(alice.id, "$argon2id$v=19$new"));
        CHECK(users.record_login(alice.id));
        CHECK_FALSE(users.set_disabled(999999, true));
    });
    tx(db, [&](pqxx::work& t) {
        const auto changed = UserRepository(t).find(alice.id);
        REQUIRE(changed);
        CHECK(changed->disabled);
        CHECK(changed->role == UserRole::user);
        CHECK(changed->password_hash == "$argon2id$v=19$new");
        CHECK(changed->last_login_at);
    });

    // the same name in another case is the same account
    CHECK_THROWS_AS(tx(db, [](pqxx::work& t) { vdi::test::make_user(t, "ALICE"); }), vdi::ConflictError);
    // only Argon2id hashes are stored
    CHECK_THROWS_WITH(tx(db, [](pqxx::work& t) { UserRepository(t).create({"carol", "", "plaintext", UserRole::user}); }),
                      Catch::Contains("users_password_hash_check"));
    CHECK_THROWS_AS(tx(db, [](pqxx::work& t) { vdi::test::make_user(t, "has space"); }), vdi::ConflictError);

    tx(db, [&](pqxx::work& t) {
        UserRepository users(t);
        const auto bob = vdi::test::make_user(t, "bob");
        const auto staff = users.create_group("Staff", "everyone");
        CHECK(users.add_member(staff.id, alice.id));
        CHECK(users.add_member(staff.id, bob.id));
        CHECK_FALSE(users.add_member(staff.id, bob.id));  // idempotent
        CHECK(users.find_group_by_name("staff")->id == staff.id);
        CHECK(users.members_of(staff.id).size() == 2);
        REQUIRE(users.groups_of(bob.id).size() == 1);
        CHECK(users.groups_of(bob.id)[0].name == "Staff");
        CHECK(users.remove_member(staff.id, bob.id));
        CHECK(users.groups_of(bob.id).empty());
        CHECK(users.list().size() == 2);
        CHECK(users.list_groups().size() == 1);
    });
}

TEST_CASE("images: versions, latest ready, state changes", "[repo][images]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        ImageRepository images(t);
        NewGoldenImage image;
        image.name = "win-like";
        image.state_path = "/img/state";
        image.memory_path = "/img/memory";
        image.memory_mib = 256;
        image.vcpus = 2;
        image.fb_width = 1280;
        image.fb_height = 800;
        const auto v1 = images.create(image);
        CHECK(v1.version == 1);
        CHECK(v1.state == ImageState::building);
        const auto v2 = images.create(image);
        CHECK(v2.version == 2);
        CHECK_FALSE(images.latest_ready("win-like"));
        CHECK(images.set_state(v1.id, ImageState::ready));
        CHECK(images.latest_ready("win-like")->id == v1.id);
        CHECK(images.set_state(v2.id, ImageState::failed, std::string("guest never said ready")));
        const auto failed = images.find("win-like", 2);
        REQUIRE(failed);
        CHECK(failed->state == ImageState::failed);
        CHECK(failed->error == "guest never said ready");
        CHECK(failed->memory_mib == 256);
        CHECK(failed->vcpus == 2);
        CHECK(failed->fb_width == 1280);
        CHECK(images.find(v1.id)->state_path == "/img/state");
        CHECK(images.list().size() == 2);
    });
}

TEST_CASE("hosts: registration is idempotent, heartbeats, stale hosts become lost", "[repo][hosts]")
{
    TestDatabase db;
    const auto host = tx(db, [](pqxx::work& t) {
        return HostRepository(t).register_host({"hv1", "10.0.0.1", 16, 65536, 4, "0.1.0"});
    });
    CHECK(host.state == HostState::online);
    tx(db, [&](pqxx::work& t) {
        HostRepository hosts(t);
        const auto again = hosts.register_host({"hv1", "10.0.0.2", 32, 131072, 8, "0.1.1"});
        CHECK(again.id == host.id);
        CHECK(again.address == "10.0.0.2");
        CHECK(again.vcpus_total == 32);
        CHECK(hosts.heartbeat(host.id));
        CHECK_FALSE(hosts.heartbeat(424242));
        CHECK(hosts.find_by_name("hv1")->memory_mib_total == 131072);
        hosts.register_host({"hv2", "10.0.0.3", 8, 16384, 2, "0.1.0"});
        // pretend hv2 has been silent for a minute
        t.exec("UPDATE hosts SET last_heartbeat_at = now() - interval '60 seconds' WHERE name = 'hv2'");
    });
    const auto lost = tx(db, [](pqxx::work& t) { return HostRepository(t).mark_stale_lost(std::chrono::seconds(30)); });
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].name == "hv2");
    CHECK(lost[0].state == HostState::lost);
    tx(db, [&](pqxx::work& t) {
        HostRepository hosts(t);
        CHECK(hosts.mark_stale_lost(std::chrono::seconds(30)).empty());  // already lost
        CHECK(hosts.heartbeat(lost[0].id));  // it came back
        CHECK(hosts.find(lost[0].id)->state == HostState::online);
        CHECK(hosts.set_state(host.id, HostState::draining));
        CHECK(hosts.list().size() == 2);
    });
}

TEST_CASE("pools: settings round trip, sizing rules, entitlements through users and groups", "[repo][pools]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        PoolRepository pools(t);
        PoolSettings settings;
        settings.name = "engineering";
        settings.display_name = "Engineering desktops";
        settings.assignment = PoolAssignment::dedicated;
        settings.golden_image_id = image.id;
        settings.min_ready = 3;
        settings.max_size = 20;
        settings.protocols = {DisplayProtocol::rdp};
        settings.refresh_policy = RefreshPolicy::never;
        settings.refresh_cron = "0 3 * * 1-5";
        settings.idle_timeout_s = 900;
        settings.disconnected_timeout_s = 3600;
        settings.max_session_s = 36000;
        const auto pool = pools.create(settings);
        const auto found = pools.find_by_name("engineering");
        REQUIRE(found);
        CHECK(found->id == pool.id);
        CHECK(found->display_name == "Engineering desktops");
        CHECK(found->assignment == PoolAssignment::dedicated);
        CHECK(found->protocols == std::vector<DisplayProtocol>{DisplayProtocol::rdp});
        CHECK(found->refresh_policy == RefreshPolicy::never);
        CHECK(found->refresh_cron == "0 3 * * 1-5");
        CHECK(found->idle_timeout_s == 900);
        CHECK(found->disconnected_timeout_s == 3600);
        CHECK(found->max_session_s == 36000);

        settings.protocols = {DisplayProtocol::vnc, DisplayProtocol::rdp};
        settings.refresh_cron.reset();
        settings.idle_timeout_s.reset();
        CHECK(pools.update(pool.id, settings));
        const auto updated = pools.find(pool.id);
        CHECK(updated->protocols.size() == 2);
        CHECK_FALSE(updated->refresh_cron);
        CHECK_FALSE(updated->idle_timeout_s);
        CHECK(pools.set_sizing(pool.id, 5, 50));
        CHECK(pools.find(pool.id)->min_ready == 5);
        const auto image2 = vdi::test::make_image(t, "demo2");
        CHECK(pools.set_golden_image(pool.id, image2.id));
        CHECK(pools.find(pool.id)->golden_image_id == image2.id);
        CHECK(pools.list().size() == 1);
    });

    const auto image_id = tx(db, [](pqxx::work& t) { return ImageRepository(t).list()[0].id; });
    // max_size below min_ready, a malformed cron, no protocol, an unknown image: all refused
    const auto refused = [&](auto mutate) {
        PoolSettings s;
        s.name = "bad";
        s.golden_image_id = image_id;
        mutate(s);
        CHECK_THROWS_AS(tx(db, [&](pqxx::work& t) { PoolRepository(t).create(s); }), vdi::ConflictError);
    };
    refused([](PoolSettings& s) { s.min_ready = 10, s.max_size = 5; });
    refused([](PoolSettings& s) { s.refresh_cron = "every night"; });
    refused([](PoolSettings& s) { s.protocols.clear(); });
    refused([](PoolSettings& s) { s.golden_image_id = 987654; });
    refused([](PoolSettings& s) { s.idle_timeout_s = 0; });

    tx(db, [&](pqxx::work& t) {
        PoolRepository pools(t);
        UserRepository users(t);
        const auto pool = *pools.find_by_name("engineering");
        const auto other = vdi::test::make_pool(t, image_id, "other");
        const auto disabled = vdi::test::make_pool(t, image_id, "disabled");
        auto disabled_settings = static_cast<PoolSettings>(disabled);
        disabled_settings.enabled = false;
        pools.update(disabled.id, disabled_settings);

        const auto direct = vdi::test::make_user(t, "direct");
        const auto member = vdi::test::make_user(t, "member");
        const auto outsider = vdi::test::make_user(t, "outsider");
        const auto group = users.create_group("eng");
        users.add_member(group.id, member.id);

        const auto e1 = pools.entitle_user(pool.id, direct.id);
        CHECK(pools.entitle_user(pool.id, direct.id).id == e1.id);  // idempotent
        pools.entitle_group(other.id, group.id);
        pools.entitle_group(disabled.id, group.id);

        CHECK(pools.is_entitled(pool.id, direct.id));
        CHECK_FALSE(pools.is_entitled(other.id, direct.id));
        CHECK(pools.is_entitled(other.id, member.id));
        CHECK_FALSE(pools.is_entitled(pool.id, outsider.id));
        const auto member_pools = pools.entitled_pools(member.id);
        REQUIRE(member_pools.size() == 1);  // the disabled pool is not offered
        CHECK(member_pools[0].name == "other");
        CHECK(pools.entitled_pools(outsider.id).empty());
        CHECK(pools.entitlements_of(pool.id).size() == 1);
        CHECK(pools.revoke_entitlement(e1.id));
        CHECK_FALSE(pools.is_entitled(pool.id, direct.id));
    });
}

TEST_CASE("desktops: placement, fenced reports, readiness and counts", "[repo][desktops]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto host = HostRepository(t).register_host({"hv1", "127.0.0.1", 4, 8192, 2, "0.1.0"});
        DesktopRepository desktops(t);
        auto d = desktops.create({pool.id, "desk-1", image.id, std::nullopt});
        CHECK(d.generation == 1);
        CHECK(d.actual_state == DesktopActualState::pending);
        CHECK(d.desired_state == DesktopDesiredState::running);
        CHECK_FALSE(d.is_ready());
        CHECK(desktops.place(d.id, host.id));
        CHECK(desktops.list_by_host(host.id).size() == 1);

        ActualReport report;
        report.generation = 1;
        report.state = DesktopActualState::running;
        report.vnc_port = 5901;
        report.rdp_port = 3390;
        report.vmm_pid = 4242;
        CHECK(desktops.report_actual(d.id, report));
        CHECK_FALSE(desktops.find(d.id)->is_ready());  // the guest has not said ready yet
        CHECK(desktops.counts(pool.id).provisioning == 1);
        CHECK(desktops.mark_guest_ready(d.id, 1));
        d = *desktops.find(d.id);
        CHECK(d.is_ready());
        CHECK(d.vnc_port == 5901);
        CHECK(d.rdp_port == 3390);
        CHECK(d.vmm_pid == 4242);
        CHECK(d.host_id == host.id);
        auto counts = desktops.counts(pool.id);
        CHECK(counts.total == 1);
        CHECK(counts.ready == 1);
        CHECK(counts.provisioning == 0);

        // a refresh bumps the generation: the running clone is stale and no longer ready
        CHECK(desktops.bump_generation(d.id, 1) == 2);
        CHECK_FALSE(desktops.bump_generation(d.id, 1));  // fencing: a second bump from gen 1 loses
        d = *desktops.find(d.id);
        CHECK_FALSE(d.is_ready());
        // a late report about generation 1 changes nothing
        report.state = DesktopActualState::failed;
        CHECK_FALSE(desktops.report_actual(d.id, report));
        CHECK(desktops.find(d.id)->actual_state == DesktopActualState::running);
        CHECK_FALSE(desktops.mark_guest_ready(d.id, 1));
        // the agent brings up generation 2
        report.generation = 2;
        report.state = DesktopActualState::running;
        CHECK(desktops.report_actual(d.id, report));
        CHECK(desktops.mark_guest_ready(d.id, 2));
        CHECK(desktops.find(d.id)->is_ready());

        // a report cannot claim a generation from the future
        report.generation = 3;
        CHECK_FALSE(desktops.report_actual(d.id, report));

        CHECK(desktops.set_desired_state(d.id, DesktopDesiredState::stopped));
        CHECK_FALSE(desktops.find(d.id)->is_ready());
        CHECK(desktops.counts(pool.id).ready == 0);

        const auto lost = desktops.mark_lost_on_host(host.id, "host hv1 stopped heartbeating");
        REQUIRE(lost.size() == 1);
        CHECK(lost[0].actual_state == DesktopActualState::lost);
        CHECK(lost[0].error == "host hv1 stopped heartbeating");
        CHECK(desktops.counts(pool.id).failed == 1);
        CHECK(desktops.list_by_pool(pool.id).size() == 1);

        t.exec("SAVEPOINT duplicate");
        CHECK_THROWS_AS(desktops.create({pool.id, "desk-1", image.id, std::nullopt}), pqxx::unique_violation);
        t.exec("ROLLBACK TO SAVEPOINT duplicate");
    });
}

TEST_CASE("desktops: floating claim, release and refresh", "[repo][desktops]")
{
    TestDatabase db;
    const auto [pool, alice, bob] = tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto p = vdi::test::make_pool(t, image.id);
        vdi::test::make_ready_desktop(t, p, "desk-1");
        return std::make_tuple(p, vdi::test::make_user(t, "alice"), vdi::test::make_user(t, "bob"));
    });

    const auto claimed = tx(db, [&](pqxx::work& t) { return DesktopRepository(t).claim_floating(pool.id, alice.id); });
    REQUIRE(claimed);
    CHECK(claimed->assigned_user_id == alice.id);
    CHECK(claimed->assigned_at);
    // the only desktop is taken
    CHECK_FALSE(tx(db, [&](pqxx::work& t) { return DesktopRepository(t).claim_floating(pool.id, bob.id); }));
    CHECK(tx(db, [&](pqxx::work& t) { return DesktopRepository(t).counts(pool.id); }).in_use == 1);

    tx(db, [&](pqxx::work& t) {
        DesktopRepository desktops(t);
        CHECK_FALSE(desktops.release(claimed->id, bob.id));  // bob never held it
        CHECK(desktops.release(claimed->id, alice.id));
        // refresh on logoff: new generation; not ready until the agent re-instantiates it
        CHECK(desktops.bump_generation(claimed->id, claimed->generation) == claimed->generation + 1);
    });
    CHECK_FALSE(tx(db, [&](pqxx::work& t) { return DesktopRepository(t).claim_floating(pool.id, bob.id); }));
    tx(db, [&](pqxx::work& t) {
        DesktopRepository desktops(t);
        ActualReport report;
        report.generation = claimed->generation + 1;
        report.state = DesktopActualState::running;
        desktops.report_actual(claimed->id, report);
        desktops.mark_guest_ready(claimed->id, report.generation);
    });
    const auto second = tx(db, [&](pqxx::work& t) { return DesktopRepository(t).claim_floating(pool.id, bob.id); });
    REQUIRE(second);
    CHECK(second->id == claimed->id);
    CHECK(second->generation == claimed->generation + 1);

    // one user, one floating desktop per pool
    tx(db, [&](pqxx::work& t) { vdi::test::make_ready_desktop(t, pool, "desk-2"); });
    CHECK_THROWS_AS(tx(db, [&](pqxx::work& t) { return DesktopRepository(t).claim_floating(pool.id, bob.id); }),
                    vdi::ConflictError);
}

TEST_CASE("desktops: the ready predicate is one SQL function the planner inlines into the index", "[repo][desktops]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto host = HostRepository(t).register_host({"hv1", "127.0.0.1", 4, 8192, 4, "0.1.0"});
        DesktopRepository desktops(t);
        // one ready, one placed but not yet confirmed by the agent (ready_generation NULL)
        vdi::test::make_ready_desktop(t, pool, "ready-1");
        const auto pending = desktops.create({pool.id, "pending-1", image.id, std::nullopt});
        CHECK(desktops.place(pending.id, host.id));
        CHECK_FALSE(desktops.find(pending.id)->is_ready());
        // never NULL, so NOT up_to_date counts the unconfirmed desktop as in flight
        CHECK(t.exec1("SELECT count(*) FROM desktops d WHERE NOT " + std::string(up_to_date_desktop_sql()))[0]
                  .as<int>() == 1);
        const auto counts = desktops.counts(pool.id);
        CHECK(counts.ready == 1);
        CHECK(counts.provisioning == 1);

        // the claim's query and the counts stay scans of the partial index desktops_ready_idx
        t.exec("SET LOCAL enable_seqscan = off");
        t.exec("SET LOCAL enable_bitmapscan = off");
        const auto plan = [&](const std::string& query) {
            std::string text;
            for (const auto& row : t.exec("EXPLAIN " + query)) {
                text += row[0].as<std::string>() + "\n";
            }
            return text;
        };
        const auto claim = plan("SELECT d.id FROM desktops d WHERE d.pool_id = " + std::to_string(pool.id) + " AND " +
                                ready_desktop_sql() + " ORDER BY d.id LIMIT 1 FOR UPDATE SKIP LOCKED");
        INFO(claim);
        CHECK(claim.find("desktops_ready_idx") != std::string::npos);
        const auto count = plan("SELECT count(*) FROM desktops d WHERE d.pool_id = " + std::to_string(pool.id) +
                                " AND " + ready_desktop_sql());
        INFO(count);
        CHECK(count.find("Index Only Scan using desktops_ready_idx") != std::string::npos);
        // desktop_claim() itself uses the same function
        CHECK(t.exec1("SELECT prosrc FROM pg_proc WHERE proname = 'desktop_claim'")[0].as<std::string>().find(
                  "desktop_is_ready(r)") != std::string::npos);
    });
}

TEST_CASE("desktops: a dedicated desktop stays with its owner", "[repo][desktops]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id, "dedicated", PoolAssignment::dedicated);
        vdi::test::make_ready_desktop(t, pool, "d1");
        vdi::test::make_ready_desktop(t, pool, "d2");
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        const auto carol = vdi::test::make_user(t, "carol");
        DesktopRepository desktops(t);
        const auto first = desktops.claim_dedicated(pool.id, alice.id);
        REQUIRE(first);
        CHECK(first->owner_user_id == alice.id);
        CHECK(desktops.claim_dedicated(pool.id, alice.id)->id == first->id);  // the same one again
        const auto bobs = desktops.claim_dedicated(pool.id, bob.id);
        REQUIRE(bobs);
        CHECK(bobs->id != first->id);
        CHECK_FALSE(desktops.claim_dedicated(pool.id, carol.id));  // none left
        CHECK(desktops.counts(pool.id).in_use == 2);
    });
}

TEST_CASE("sessions: one live session per desktop and per user and pool", "[repo][sessions]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto d1 = vdi::test::make_ready_desktop(t, pool, "d1");
        const auto d2 = vdi::test::make_ready_desktop(t, pool, "d2");
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        SessionRepository sessions(t);
        const auto s = sessions.open({alice.id, d1.id, pool.id, d1.generation, DisplayProtocol::vnc,
                                      std::string("192.0.2.10")});
        CHECK(s.state == SessionState::active);
        CHECK(s.client_address == "192.0.2.10");
        CHECK(sessions.live_for_user_in_pool(alice.id, pool.id)->id == s.id);
        CHECK(sessions.live_for_desktop(d1.id)->id == s.id);
        CHECK(sessions.live_for_user(alice.id).size() == 1);

        t.exec("SAVEPOINT before_second");
        CHECK_THROWS_AS(sessions.open({bob.id, d1.id, pool.id, d1.generation, DisplayProtocol::rdp, std::nullopt}),
                        pqxx::unique_violation);
        t.exec("ROLLBACK TO SAVEPOINT before_second");
        CHECK_THROWS_AS(sessions.open({alice.id, d2.id, pool.id, d2.generation, DisplayProtocol::rdp, std::nullopt}),
                        pqxx::unique_violation);
        t.exec("ROLLBACK TO SAVEPOINT before_second");

        CHECK(sessions.mark_disconnected(s.id));
        CHECK(sessions.find(s.id)->disconnected_at);
        CHECK_FALSE(sessions.mark_disconnected(s.id));  // already disconnected
        CHECK(sessions.mark_active(s.id, DisplayProtocol::rdp, std::string("192.0.2.11")));
        const auto back = sessions.find(s.id);
        CHECK(back->state == SessionState::active);
        CHECK(back->protocol == DisplayProtocol::rdp);
        CHECK(back->client_address == "192.0.2.11");
        CHECK_FALSE(back->disconnected_at);
        CHECK(sessions.touch(s.id));
        CHECK(sessions.end(s.id, "logoff"));
        CHECK_FALSE(sessions.end(s.id, "logoff"));
        const auto ended = sessions.find(s.id);
        CHECK(ended->state == SessionState::ended);
        CHECK(ended->end_reason == "logoff");
        CHECK(ended->ended_at);
        CHECK(sessions.list_live().empty());
        // after the end, the desktop can host a new session
        CHECK(sessions.open({bob.id, d1.id, pool.id, d1.generation, DisplayProtocol::vnc, std::nullopt}).id > s.id);
    });
}

TEST_CASE("tickets: single use, expiry, only the hash is stored", "[repo][tickets]")
{
    TestDatabase db;
    const std::string ticket = vdi::random_token();
    const auto hash = vdi::sha256_hex(ticket);
    tx(db, [&](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto d = vdi::test::make_ready_desktop(t, pool, "d1");
        const auto user = vdi::test::make_user(t, "alice");
        const auto s = SessionRepository(t).open({user.id, d.id, pool.id, d.generation, DisplayProtocol::vnc, {}});
        TicketRepository tickets(t);
        const auto issued = tickets.issue(s.id, d.id, DisplayProtocol::vnc, hash, std::chrono::seconds(30));
        CHECK(issued.expires_at > issued.created_at);
        const auto expired = tickets.issue(s.id, d.id, DisplayProtocol::vnc, vdi::sha256_hex("old"),
                                           std::chrono::seconds(1));
        t.exec_params("UPDATE display_tickets SET created_at = created_at - interval '1 hour', "
                      "expires_at = expires_at - interval '1 hour' WHERE id = $1",
                      expired.id);
        // the plaintext appears nowhere in the table
        CHECK(t.exec_params1("SELECT count(*) FROM display_tickets WHERE position(convert_to($1, 'UTF8') IN "
                             "ticket_hash) > 0",
                             ticket)[0]
                  .as<int>() == 0);
    });
    const auto first = tx(db, [&](pqxx::work& t) { return TicketRepository(t).consume(hash); });
    REQUIRE(first);
    CHECK(first->used_at);
    CHECK_FALSE(tx(db, [&](pqxx::work& t) { return TicketRepository(t).consume(hash); }));  // burnt
    CHECK_FALSE(tx(db, [&](pqxx::work& t) { return TicketRepository(t).consume(vdi::sha256_hex("old")); }));
    CHECK_FALSE(tx(db, [&](pqxx::work& t) { return TicketRepository(t).consume(vdi::sha256_hex("never issued")); }));
    CHECK(tx(db, [](pqxx::work& t) { return TicketRepository(t).purge_expired(std::chrono::seconds(60)); }) == 1);
}

TEST_CASE("api tokens: authenticate, expire, revoke, disabled users", "[repo][tokens]")
{
    TestDatabase db;
    const auto token_hash = vdi::sha256_hex("token-1");
    const auto user = tx(db, [&](pqxx::work& t) {
        const auto u = vdi::test::make_user(t, "alice");
        ApiTokenRepository tokens(t);
        const auto created = tokens.create(u.id, token_hash, std::chrono::hours(8), std::string("192.0.2.1"));
        CHECK(created.user_id == u.id);
        CHECK(created.client_address == "192.0.2.1");
        tokens.create(u.id, vdi::sha256_hex("token-2"), std::chrono::hours(8), std::nullopt);
        tokens.create(u.id, vdi::sha256_hex("token-3"), std::chrono::seconds(1), std::nullopt);
        t.exec("UPDATE api_tokens SET expires_at = now() - interval '1 second', created_at = now() - interval '1 hour' "
               "WHERE token_hash = decode('" + vdi::sha256_hex("token-3") + "', 'hex')");
        return u;
    });
    tx(db, [&](pqxx::work& t) {
        ApiTokenRepository tokens(t);
        const auto ok = tokens.authenticate(token_hash);
        REQUIRE(ok);
        CHECK(ok->user_id == user.id);
        CHECK_FALSE(tokens.authenticate(vdi::sha256_hex("token-3")));  // expired
        CHECK_FALSE(tokens.authenticate(vdi::sha256_hex("unknown")));
        CHECK(tokens.revoke(token_hash));
        CHECK_FALSE(tokens.revoke(token_hash));
        CHECK_FALSE(tokens.authenticate(token_hash));
        UserRepository(t).set_disabled(user.id, true);
        CHECK_FALSE(tokens.authenticate(vdi::sha256_hex("token-2")));  // user disabled
        CHECK(tokens.revoke_all_for_user(user.id) == 1);
    });
}

TEST_CASE("login throttle: failures count up atomically, success clears, locks only extend", "[repo][throttle]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        LoginThrottleRepository throttle(t);
        throttle.record_attempt("Alice", "192.0.2.7", false);
        throttle.record_attempt("alice", "192.0.2.7", false);
        throttle.record_attempt("alice", "192.0.2.7", true);
        CHECK(throttle.failures_since("ALICE", Clock::now() - std::chrono::minutes(5)) == 2);
        CHECK(throttle.failures_since("alice", Clock::now() + std::chrono::minutes(5)) == 0);

        CHECK(throttle.register_failure(LockoutScope::user, "Alice").consecutive_failures == 1);
        const auto second = throttle.register_failure(LockoutScope::user, "alice");
        CHECK(second.consecutive_failures == 2);
        CHECK(second.subject == "alice");
        CHECK(throttle.register_failure(LockoutScope::address, "192.0.2.7").consecutive_failures == 1);

        const auto later = Clock::now() + std::chrono::minutes(10);
        throttle.lock_until(LockoutScope::user, "alice", later);
        throttle.lock_until(LockoutScope::user, "alice", Clock::now() + std::chrono::minutes(1));  // no shortening
        const auto locked = throttle.find(LockoutScope::user, "ALICE");
        REQUIRE(locked);
        REQUIRE(locked->locked_until);
        CHECK(std::chrono::abs(*locked->locked_until - later) < std::chrono::milliseconds(1));
        CHECK(locked->consecutive_failures == 2);

        throttle.clear(LockoutScope::user, "alice");
        CHECK_FALSE(throttle.find(LockoutScope::user, "alice"));
        CHECK(throttle.find(LockoutScope::address, "192.0.2.7"));
    });
}

TEST_CASE("jobs: enqueue, claim once, progress, finish, cancel, scheduled ticks deduplicated", "[repo][jobs]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto image2 = vdi::test::make_image(t, "demo2");
        const auto pool = vdi::test::make_pool(t, image.id);
        JobRepository jobs(t);
        const auto refresh = jobs.enqueue({JobType::refresh_pool, pool.id, {}, {}, {}, {}, {}});
        CHECK(refresh.state == JobState::queued);
        const auto push = jobs.enqueue({JobType::image_push, pool.id, image2.id, {}, {}, {}, {}});
        CHECK(push.target_image_id == image2.id);
        const auto future = jobs.enqueue(
            {JobType::refresh_pool, pool.id, {}, Clock::now() + std::chrono::hours(1), {}, {}, {}});
        // an image push needs a target
        t.exec("SAVEPOINT s");
        CHECK_THROWS_AS(jobs.enqueue({JobType::image_push, pool.id, {}, {}, {}, {}, {}}), pqxx::check_violation);
        t.exec("ROLLBACK TO SAVEPOINT s");

        const auto claimed = jobs.claim_due("pm-1");
        REQUIRE(claimed);
        CHECK(claimed->id == refresh.id);
        CHECK(claimed->state == JobState::running);
        CHECK(claimed->claimed_by == "pm-1");
        CHECK(claimed->started_at);
        CHECK(jobs.update_progress(refresh.id, 3, 10));
        CHECK(jobs.find(refresh.id)->progress_done == 3);
        CHECK(jobs.finish(refresh.id, JobState::succeeded));
        CHECK_FALSE(jobs.finish(refresh.id, JobState::failed));  // already finished
        CHECK(jobs.find(refresh.id)->finished_at);

        const auto second = jobs.claim_due("pm-2");
        REQUIRE(second);
        CHECK(second->id == push.id);
        CHECK_FALSE(jobs.claim_due("pm-1"));  // the third is not due yet
        CHECK(jobs.request_cancel(second->id));
        CHECK(jobs.find(second->id)->cancel_requested);
        CHECK(jobs.find(second->id)->state == JobState::running);  // its worker stops it
        CHECK(jobs.finish(second->id, JobState::cancelled));
        CHECK(jobs.request_cancel(future.id));
        CHECK(jobs.find(future.id)->state == JobState::cancelled);  // queued: cancelled at once
        CHECK_THROWS_AS(jobs.finish(future.id, JobState::running), vdi::Error);

        const auto tick = Clock::now() - std::chrono::minutes(1);
        NewJob scheduled{JobType::refresh_pool, pool.id, {}, {}, tick, {}, {}};
        CHECK(jobs.enqueue_scheduled(scheduled));
        CHECK_FALSE(jobs.enqueue_scheduled(scheduled));  // another pool manager saw the same tick
        const auto last = jobs.last_scheduled_tick(pool.id, JobType::refresh_pool);
        REQUIRE(last);
        CHECK(std::chrono::abs(*last - tick) < std::chrono::milliseconds(1));
        const auto claimed_tick = jobs.claim_due("pm-3");
        REQUIRE(claimed_tick);
        CHECK(jobs.requeue_claimed_by("pm-3") == 1);  // pm-3 died
        CHECK(jobs.find(claimed_tick->id)->state == JobState::queued);
        CHECK(jobs.list_for_pool(pool.id).size() == 4);
        CHECK(jobs.list_recent(2).size() == 2);
    });
}

TEST_CASE("audit: append, filter, and the log cannot be rewritten", "[repo][audit]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto admin = vdi::test::make_user(t, "admin", UserRole::admin);
        AuditRepository audit(t);
        AuditEntry entry;
        entry.actor_user_id = admin.id;
        entry.actor = "admin";
        entry.action = "pool.update";
        entry.target_type = "pool";
        entry.target_id = "7";
        entry.source_address = "192.0.2.1";
        entry.details = {{"min_ready", {{"from", 1}, {"to", 5}}}};
        const auto stored = audit.append(entry);
        CHECK(stored.id > 0);
        CHECK(stored.details["min_ready"]["to"] == 5);
        entry.action = "user.login";
        entry.success = false;
        entry.details = nlohmann::json::object();
        audit.append(entry);
        entry.actor_user_id.reset();
        entry.actor = "pool-manager@hv1";
        entry.action = "desktop.refresh";
        audit.append(entry);

        CHECK(audit.list().size() == 3);
        CHECK(audit.list()[0].action == "desktop.refresh");  // newest first
        AuditFilter by_actor;
        by_actor.actor_user_id = admin.id;
        CHECK(audit.list(by_actor).size() == 2);
        AuditFilter pools_only;
        pools_only.action_prefix = "pool.";
        REQUIRE(audit.list(pools_only).size() == 1);
        CHECK(audit.list(pools_only)[0].target_id == "7");
        AuditFilter paged;
        paged.limit = 1;
        paged.before_id = stored.id + 1;
        CHECK(audit.list(paged)[0].id == stored.id);
    });
    CHECK_THROWS_WITH(tx(db, [](pqxx::work& t) { t.exec("UPDATE audit_log SET actor = 'someone else'"); }),
                      Catch::Contains("append-only"));
    CHECK_THROWS_WITH(tx(db, [](pqxx::work& t) { t.exec("DELETE FROM audit_log"); }), Catch::Contains("append-only"));
}

TEST_CASE("notifications: desktop changes wake listeners on the desktops channel", "[repo][notify]")
{
    TestDatabase db;
    struct Receiver : pqxx::notification_receiver {
        std::vector<std::string> payloads;
        Receiver(pqxx::connection_base& c) : pqxx::notification_receiver(c, "vdi_desktops") {}
        void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
    };
    auto listener = connect(db.dsn(), "listener");
    Receiver receiver(*listener);
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        DesktopRepository(t).create({pool.id, "d1", image.id, std::nullopt});
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (receiver.payloads.empty() && std::chrono::steady_clock::now() < deadline) {
        listener->await_notification(1, 0);
    }
    REQUIRE(receiver.payloads.size() == 1);
    const auto payload = nlohmann::json::parse(receiver.payloads[0]);
    CHECK(payload.contains("id"));
    CHECK(payload["host_id"].is_null());
}

TEST_CASE("pool manager queries: broken desktops retire, failures, counts, names, trimming", "[repo][desktops][pool-manager]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto other_pool = vdi::test::make_pool(t, image.id, "other");
        const auto alice = vdi::test::make_user(t, "alice");
        DesktopRepository desktops(t);
        const auto ready = vdi::test::make_ready_desktop(t, pool, "pool-1");
        const auto spare = vdi::test::make_ready_desktop(t, pool, "pool-7");
        const auto failing = desktops.create({pool.id, "pool-3", image.id, std::nullopt});
        vdi::test::make_ready_desktop(t, other_pool, "other-40");
        CHECK(desktops.next_name_number(pool.id) == 8);
        CHECK(desktops.next_name_number(other_pool.id) == 41);
        CHECK(desktops.next_name_number(999999) == 1);

        ActualReport report;
        report.generation = failing.generation;
        report.state = DesktopActualState::failed;
        report.error = "the VMM exited with status 1";
        REQUIRE(desktops.report_actual(failing.id, report));
        const auto broken = desktops.list_broken(pool.id);
        REQUIRE(broken.size() == 1);
        CHECK(broken[0].id == failing.id);
        const auto failures = desktops.recent_failures(pool.id, image.id, Clock::now() - std::chrono::minutes(10));
        CHECK(failures.count == 1);
        CHECK(failures.an_error == "the VMM exited with status 1");
        CHECK(desktops.recent_failures(pool.id, image.id, Clock::now() + std::chrono::minutes(1)).count == 0);
        CHECK_FALSE(desktops.recent_failures(other_pool.id, image.id, Clock::now() - std::chrono::minutes(10)).an_error);

        auto counts = desktops.running_counts(pool.id);
        CHECK(counts.total == 3);
        CHECK(counts.in_use == 0);
        CHECK(desktops.claim_floating(pool.id, alice.id)->id == ready.id);
        counts = desktops.running_counts(pool.id);
        CHECK(counts.in_use == 1);

        CHECK(desktops.retire(failing.id));
        CHECK_FALSE(desktops.retire(999999));
        const auto retired = desktops.find(failing.id);
        CHECK(retired->desired_state == DesktopDesiredState::deleted);
        CHECK(desktops.list_broken(pool.id).empty());  // deleted ones are no longer wanted
        CHECK(desktops.running_counts(pool.id).total == 2);

        // trimming takes ready spares only, and only those unchanged since the cutoff
        CHECK(desktops.trim_spares(pool.id, Clock::now() - std::chrono::hours(1), 5) == 0);
        CHECK(desktops.trim_spares(pool.id, Clock::now() + std::chrono::minutes(1), 5) == 1);
        CHECK(desktops.find(spare.id)->desired_state == DesktopDesiredState::deleted);
        CHECK(desktops.find(ready.id)->desired_state == DesktopDesiredState::running);  // assigned to alice
        CHECK(desktops.find(ready.id)->assigned_user_id == alice.id);
    });
}

TEST_CASE("pool manager queries: a job flags desktops, warns their sessions and unflags them", "[repo][jobs][pool-manager]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto image2 = vdi::test::make_image(t, "demo2");
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto alice = vdi::test::make_user(t, "alice");
        DesktopRepository desktops(t);
        const auto d1 = vdi::test::make_ready_desktop(t, pool, "pool-1");
        const auto d2 = vdi::test::make_ready_desktop(t, pool, "pool-2");
        const auto pending = desktops.create({pool.id, "pool-3", image.id, std::nullopt});
        const auto stopped = vdi::test::make_ready_desktop(t, pool, "pool-4");
        REQUIRE(desktops.set_desired_state(stopped.id, DesktopDesiredState::stopped));
        JobRepository jobs(t);
        const auto job = jobs.enqueue({JobType::refresh_pool, pool.id, {}, {}, {}, {}, {}});
        CHECK(jobs.list_running_ids().empty());
        CHECK_FALSE(jobs.try_lock_running(job.id));  // queued, not running
        REQUIRE(jobs.claim_due("pm-1"));
        CHECK(jobs.list_running_ids() == std::vector<Id>{job.id});
        CHECK(jobs.try_lock_running(job.id));

        CHECK(desktops.flag_for_job(pool.id, job.id) == 3);  // the stopped one is not wanted running
        CHECK(desktops.count_for_job(job.id) == 3);
        CHECK(desktops.running_counts(pool.id).waiting_refresh == 3);
        REQUIRE(desktops.claim_floating(pool.id, alice.id)->id == d1.id);
        SessionRepository sessions(t);
        const auto session = sessions.open({alice.id, d1.id, pool.id, d1.generation, DisplayProtocol::vnc, std::nullopt});
        CHECK(sessions.warn_job_sessions(job.id, "refresh at 12:00") == 1);
        CHECK(sessions.warn_job_sessions(job.id, "again") == 0);  // warned once
        CHECK(t.exec_params1("SELECT warning FROM sessions WHERE id = $1", session.id)[0].as<std::string>() ==
              "refresh at 12:00");

        const auto flagged = desktops.list_for_job(job.id);
        REQUIRE(flagged.size() == 3);
        CHECK(flagged[0].desktop.id == d1.id);
        CHECK(flagged[0].live_session_id == session.id);
        CHECK(flagged[0].up_to_date);  // assigned, yet its clone is current and ready
        CHECK(flagged[1].desktop.id == d2.id);
        CHECK_FALSE(flagged[1].live_session_id);
        CHECK(flagged[1].up_to_date);
        CHECK(flagged[2].desktop.id == pending.id);
        CHECK_FALSE(flagged[2].up_to_date);

        CHECK(desktops.finish_refresh(d2.id, image2.id));
        CHECK(desktops.find(d2.id)->golden_image_id == image2.id);
        CHECK(desktops.count_for_job(job.id) == 2);
        CHECK(desktops.unflag_job(job.id) == 2);
        CHECK(desktops.count_for_job(job.id) == 0);
    });
}

TEST_CASE("pool manager queries: pools lock, carry a provisioning error, switch images", "[repo][pools][pool-manager]")
{
    TestDatabase db;
    const auto ids = tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto image2 = vdi::test::make_image(t, "demo2");
        const auto a = vdi::test::make_pool(t, image.id, "a");
        auto settings = static_cast<PoolSettings>(vdi::test::make_pool(t, image.id, "b"));
        PoolRepository pools(t);
        settings.refresh_cron = "0 3 * * *";
        const auto b = *pools.find_by_name("b");
        REQUIRE(pools.update(b.id, settings));
        CHECK(pools.list_ids() == std::vector<Id>{a.id, b.id});
        const auto scheduled = pools.list_refresh_scheduled();
        REQUIRE(scheduled.size() == 1);
        CHECK(scheduled[0].id == b.id);
        CHECK(scheduled[0].refresh_cron == "0 3 * * *");
        settings.enabled = false;
        REQUIRE(pools.update(b.id, settings));
        CHECK(pools.list_refresh_scheduled().empty());  // disabled pools are not scheduled

        CHECK_FALSE(pools.provisioning_error(a.id));
        CHECK(pools.set_provisioning_error(a.id, "provisioning stopped"));
        CHECK(pools.provisioning_error(a.id) == "provisioning stopped");
        CHECK_FALSE(pools.provisioning_error(999999));
        CHECK(pools.switch_image(a.id, image2.id));
        CHECK_FALSE(pools.provisioning_error(a.id));  // an image push clears the error
        CHECK(pools.find(a.id)->golden_image_id == image2.id);
        CHECK_FALSE(pools.switch_image(999999, image2.id));
        return std::vector<Id>{a.id, b.id};
    });

    // a pool locked by one transaction is skipped by another, and free again after its commit
    pqxx::connection other(db.dsn());
    {
        pqxx::work first(db.connection());
        CHECK(PoolRepository(first).try_lock(ids[0]));
        pqxx::work second(other);
        CHECK_FALSE(PoolRepository(second).try_lock(ids[0]));
        CHECK(PoolRepository(second).try_lock(ids[1]));
        CHECK_FALSE(PoolRepository(second).try_lock(999999));
        first.commit();
        CHECK(PoolRepository(second).try_lock(ids[0]));
    }
}

TEST_CASE("pool manager queries: silent hosts are lost, new desktops go where there is room", "[repo][hosts][pool-manager]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        HostRepository hosts(t);
        const auto small = hosts.register_host({"small", "127.0.0.1", 1, image.memory_mib, 1, "0.1.0"});
        const auto big = hosts.register_host({"big", "127.0.0.2", 4, 8 * image.memory_mib, 1, "0.1.0"});
        const auto recently = Clock::now() - std::chrono::minutes(1);
        // least used memory first: both are empty, so the order is by id
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == small.id);
        // a drained host takes no new desktop; its drain outlives its agent re-registering, being
        // lost and heartbeating again
        REQUIRE(hosts.set_drained(small.id, true));
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == big.id);
        hosts.register_host({"small", "127.0.0.1", 1, image.memory_mib, 1, "0.1.1"});
        REQUIRE(hosts.set_state(small.id, HostState::lost));
        REQUIRE(hosts.heartbeat(small.id));
        CHECK(hosts.find(small.id)->state == HostState::online);
        CHECK(hosts.find(small.id)->drained);
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == big.id);
        REQUIRE(hosts.set_drained(small.id, false));
        CHECK_FALSE(hosts.set_drained(999999, true));
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == small.id);
        CHECK_FALSE(hosts.place_new_desktop(recently, image.vcpus, 9 * image.memory_mib, 8));  // fits nowhere
        CHECK_FALSE(hosts.place_new_desktop(Clock::now() + std::chrono::minutes(1), image.vcpus, image.memory_mib, 8));

        // a desktop being provisioned on small fills its memory and its one provisioning slot
        DesktopRepository desktops(t);
        desktops.create({pool.id, "pool-1", image.id, small.id});
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == big.id);
        // big's one provisioning slot taken too: nowhere, until its desktop is up to date
        const auto on_big = desktops.create({pool.id, "pool-2", image.id, big.id});
        CHECK_FALSE(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8));
        ActualReport report;
        report.generation = on_big.generation;
        report.state = DesktopActualState::running;
        REQUIRE(desktops.report_actual(on_big.id, report));
        REQUIRE(desktops.mark_guest_ready(on_big.id, on_big.generation));
        CHECK(hosts.place_new_desktop(recently, image.vcpus, image.memory_mib, 8) == big.id);
        // vCPUs overcommitted: with an overcommit of 1, big's 4 CPUs take 4 desktops of 1 vCPU
        CHECK_FALSE(hosts.place_new_desktop(recently, 4 * image.vcpus, image.memory_mib, 1));

        // loss by the pool manager's clock: only online hosts silent since the cutoff
        CHECK(hosts.mark_silent_lost(Clock::now() - std::chrono::minutes(1)).empty());
        REQUIRE(hosts.set_state(big.id, HostState::draining));
        const auto lost = hosts.mark_silent_lost(Clock::now() + std::chrono::minutes(1));
        REQUIRE(lost.size() == 1);
        CHECK(lost[0].id == small.id);
        CHECK(lost[0].name == "small");
        CHECK(hosts.find(small.id)->state == HostState::lost);
        CHECK(hosts.find(big.id)->state == HostState::draining);
    });
}

TEST_CASE("pool manager queries: sessions past their pool's limits", "[repo][sessions][pool-manager]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        auto pool = vdi::test::make_pool(t, image.id);
        PoolSettings settings = pool;
        settings.idle_timeout_s = 600;
        settings.disconnected_timeout_s = 60;
        settings.max_session_s = 3600;
        settings.refresh_policy = RefreshPolicy::never;
        REQUIRE(PoolRepository(t).update(pool.id, settings));
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        const auto d1 = vdi::test::make_ready_desktop(t, pool, "d1");
        const auto d2 = vdi::test::make_ready_desktop(t, pool, "d2");
        SessionRepository sessions(t);
        const auto active = sessions.open({alice.id, d1.id, pool.id, d1.generation, DisplayProtocol::vnc, std::nullopt});
        const auto away = sessions.open({bob.id, d2.id, pool.id, d2.generation, DisplayProtocol::vnc, std::nullopt});
        REQUIRE(sessions.mark_disconnected(away.id));
        const auto now = Clock::now();
        CHECK(sessions.list_expired(now).empty());

        auto expired = sessions.list_expired(now + std::chrono::seconds(120));
        REQUIRE(expired.size() == 1);
        CHECK(expired[0].session.id == away.id);
        CHECK(expired[0].session.user_id == bob.id);
        CHECK(expired[0].session.desktop_id == d2.id);
        CHECK(expired[0].session.pool_id == pool.id);
        CHECK(expired[0].reason == "disconnected too long");
        CHECK(expired[0].refresh_policy == RefreshPolicy::never);

        expired = sessions.list_expired(now + std::chrono::seconds(900));
        REQUIRE(expired.size() == 2);
        CHECK(expired[0].session.id == active.id);
        CHECK(expired[0].reason == "idle too long");
        expired = sessions.list_expired(now + std::chrono::hours(2));
        REQUIRE(expired.size() == 2);
        CHECK(expired[0].reason == "maximum session length reached");
        CHECK(expired[1].reason == "maximum session length reached");

        REQUIRE(sessions.end(away.id, "logoff"));
        CHECK(sessions.list_expired(now + std::chrono::hours(2)).size() == 1);  // ended ones are done
    });
}
