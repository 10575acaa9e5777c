// The repository functions behind the admin API's lists and shows (filters, newest-first paging,
// the computed counts), against a real, migrated PostgreSQL database.
#include <catch2/catch.hpp>

#include "vdi/common/db/desktop_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/image_repository.h"
#include "vdi/common/db/job_repository.h"
#include "vdi/common/db/pool_repository.h"
#include "vdi/common/db/session_repository.h"
#include "vdi/common/db/user_repository.h"
#include "vdi/test/fixtures.h"
#include "vdi/test/test_database.h"

using namespace vdi::db;
using vdi::test::TestDatabase;

namespace {

template <typename Fn>
auto tx(TestDatabase& db, Fn&& fn)
{
    return in_transaction(db.connection(), "test step", std::forward<Fn>(fn), 1);
}

template <typename Row>
std::vector<Id> ids(const std::vector<Row>& rows)
{
    std::vector<Id> out;
    for (const auto& row : rows) out.push_back(row.id);
    return out;
}

}  // namespace

TEST_CASE("the job list filters by pool and state and pages newest first", "[repo][lists]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto a = vdi::test::make_pool(t, image.id, "a");
        const auto b = vdi::test::make_pool(t, image.id, "b");
        JobRepository jobs(t);
        const auto a1 = jobs.enqueue({JobType::refresh_pool, a.id, {}, {}, {}, {}, {}});
        const auto b1 = jobs.enqueue({JobType::refresh_pool, b.id, {}, {}, {}, {}, {}});
        const auto a2 = jobs.enqueue({JobType::refresh_pool, a.id, {}, {}, {}, {}, {}});
        const auto a3 = jobs.enqueue({JobType::refresh_pool, a.id, {}, {}, {}, {}, {}});
        REQUIRE(jobs.request_cancel(a2.id));  // queued: cancelled at once

        CHECK(ids(jobs.list({}, {})) == std::vector<Id>{a3.id, a2.id, b1.id, a1.id});
        CHECK(ids(jobs.list({a.id, {}}, {})) == std::vector<Id>{a3.id, a2.id, a1.id});
        CHECK(ids(jobs.list({{}, JobState::cancelled}, {})) == std::vector<Id>{a2.id});
        CHECK(ids(jobs.list({b.id, JobState::cancelled}, {})).empty());
        CHECK(ids(jobs.list({}, {2, {}})) == std::vector<Id>{a3.id, a2.id});
        CHECK(ids(jobs.list({}, {2, a2.id})) == std::vector<Id>{b1.id, a1.id});
        CHECK(ids(jobs.list({a.id, JobState::queued}, {1, a3.id})) == std::vector<Id>{a1.id});
        const auto listed = jobs.list({{}, JobState::cancelled}, {});
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].pool_id == a.id);
        CHECK(listed[0].state == JobState::cancelled);
    });
}

TEST_CASE("the desktop list filters by pool and actual state, deleted desktops included", "[repo][lists]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto a = vdi::test::make_pool(t, image.id, "a");
        const auto b = vdi::test::make_pool(t, image.id, "b");
        DesktopRepository desktops(t);
        const auto a1 = vdi::test::make_ready_desktop(t, a, "a-1");
        const auto b1 = desktops.create({b.id, "b-1", image.id, std::nullopt});
        const auto a2 = desktops.create({a.id, "a-2", image.id, std::nullopt});
        const auto a3 = vdi::test::make_ready_desktop(t, a, "a-3");
        REQUIRE(desktops.set_desired_state(a3.id, DesktopDesiredState::deleted));

        CHECK(ids(desktops.list({}, {})) == std::vector<Id>{a3.id, a2.id, b1.id, a1.id});
        CHECK(ids(desktops.list({a.id, {}}, {})) == std::vector<Id>{a3.id, a2.id, a1.id});
        CHECK(ids(desktops.list({{}, DesktopActualState::pending}, {})) == std::vector<Id>{a2.id, b1.id});
        CHECK(ids(desktops.list({a.id, DesktopActualState::running}, {})) == std::vector<Id>{a3.id, a1.id});
        CHECK(ids(desktops.list({}, {1, a3.id})) == std::vector<Id>{a2.id});
        CHECK(ids(desktops.list({}, {10, a1.id})).empty());
        CHECK(desktops.list({b.id, {}}, {})[0].name == "b-1");
    });
}

TEST_CASE("the session list names each session's user and filters by user, pool and liveness", "[repo][lists]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto a = vdi::test::make_pool(t, image.id, "a");
        const auto b = vdi::test::make_pool(t, image.id, "b");
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        const auto da = vdi::test::make_ready_desktop(t, a, "a-1");
        const auto db2 = vdi::test::make_ready_desktop(t, b, "b-1");
        SessionRepository sessions(t);
        const auto ended = sessions.open({alice.id, da.id, a.id, da.generation, DisplayProtocol::vnc, std::nullopt});
        REQUIRE(sessions.end(ended.id, "logoff"));
        const auto bob_a = sessions.open({bob.id, da.id, a.id, da.generation, DisplayProtocol::rdp, "10.0.0.9"});
        const auto alice_b = sessions.open({alice.id, db2.id, b.id, db2.generation, DisplayProtocol::vnc, std::nullopt});

        const auto all = sessions.list({}, {});
        CHECK(ids(all) == std::vector<Id>{alice_b.id, bob_a.id, ended.id});
        CHECK(all[0].username == "alice");
        CHECK(all[1].username == "bob");
        CHECK(all[1].client_address == "10.0.0.9");
        CHECK(all[1].protocol == DisplayProtocol::rdp);
        CHECK(ids(sessions.list({alice.id, {}, {}}, {})) == std::vector<Id>{alice_b.id, ended.id});
        CHECK(ids(sessions.list({{}, a.id, {}}, {})) == std::vector<Id>{bob_a.id, ended.id});
        CHECK(ids(sessions.list({{}, {}, true}, {})) == std::vector<Id>{alice_b.id, bob_a.id});
        CHECK(ids(sessions.list({{}, {}, false}, {})) == std::vector<Id>{ended.id});
        CHECK(ids(sessions.list({alice.id, a.id, false}, {})) == std::vector<Id>{ended.id});
        CHECK(ids(sessions.list({}, {1, alice_b.id})) == std::vector<Id>{bob_a.id});
    });
}

TEST_CASE("pool summaries count desktops, ready and in-use ones, and entitlements carry names", "[repo][lists]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto a = vdi::test::make_pool(t, image.id, "a");
        const auto b = vdi::test::make_pool(t, image.id, "b");
        const auto alice = vdi::test::make_user(t, "alice");
        DesktopRepository desktops(t);
        vdi::test::make_ready_desktop(t, a, "a-1");
        vdi::test::make_ready_desktop(t, a, "a-2");
        desktops.create({a.id, "a-3", image.id, std::nullopt});  // pending: not ready
        const auto gone = vdi::test::make_ready_desktop(t, a, "a-4");
        REQUIRE(desktops.set_desired_state(gone.id, DesktopDesiredState::deleted));
        REQUIRE(desktops.claim_floating(a.id, alice.id));

        PoolRepository pools(t);
        const auto all = pools.list_summaries();
        CHECK(ids(all) == std::vector<Id>{b.id, a.id});
        const auto summary = pools.find_summary(a.id);
        REQUIRE(summary);
        CHECK(summary->name == "a");
        CHECK(summary->desktops == 3);
        CHECK(summary->ready == 1);
        CHECK(summary->in_use == 1);
        CHECK(all[1].desktops == 3);
        CHECK(all[0].desktops == 0);
        CHECK(all[0].ready == 0);
        CHECK_FALSE(pools.find_summary(999999));

        UserRepository users(t);
        const auto staff = users.create_group("staff");
        const auto by_user = pools.entitle_user(a.id, alice.id);
        const auto by_group = pools.entitle_group(a.id, staff.id);
        pools.entitle_user(b.id, alice.id);
        const auto named = pools.named_entitlements_of(a.id);
        REQUIRE(ids(named) == std::vector<Id>{by_group.id, by_user.id});
        CHECK(named[0].group_name == "staff");
        CHECK_FALSE(named[0].username);
        CHECK_FALSE(named[0].user_id);
        CHECK(named[1].username == "alice");
        CHECK(named[1].user_id == alice.id);
        CHECK_FALSE(named[1].group_name);
    });
}

TEST_CASE("hosts, images, users and groups are listed newest first with their counts", "[repo][lists]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        HostRepository hosts(t);
        const auto h1 = hosts.register_host({"hv-b", "10.0.0.1", 16, 65536, 4, "0.1.0"});
        const auto h2 = hosts.register_host({"hv-a", "10.0.0.2", 8, 16384, 2, "0.1.0"});
        const auto image = vdi::test::make_image(t, "zeta");
        const auto newer = vdi::test::make_image(t, "alpha");
        const auto pool = vdi::test::make_pool(t, image.id, "p");
        DesktopRepository desktops(t);
        desktops.create({pool.id, "p-1", image.id, h1.id});
        desktops.create({pool.id, "p-2", image.id, h1.id});
        const auto gone = desktops.create({pool.id, "p-3", image.id, h1.id});
        REQUIRE(desktops.set_desired_state(gone.id, DesktopDesiredState::deleted));

        const auto listed = hosts.list_summaries();
        REQUIRE(ids(listed) == std::vector<Id>{h2.id, h1.id});
        CHECK(listed[0].desktops == 0);
        CHECK(listed[1].desktops == 2);
        CHECK(listed[1].name == "hv-b");

        CHECK(ids(ImageRepository(t).list_newest_first()) == std::vector<Id>{newer.id, image.id});

        UserRepository users(t);
        const auto zed = vdi::test::make_user(t, "zed");
        const auto amy = vdi::test::make_user(t, "amy");
        CHECK(ids(users.list_newest_first()) == std::vector<Id>{amy.id, zed.id});
        const auto staff = users.create_group("staff", "everyone");
        const auto admins = users.create_group("admins");
        users.add_member(staff.id, zed.id);
        users.add_member(staff.id, amy.id);
        users.add_member(admins.id, zed.id);
        const auto groups = users.list_group_summaries();
        REQUIRE(ids(groups) == std::vector<Id>{admins.id, staff.id});
        CHECK(groups[0].members == 1);
        CHECK(groups[1].members == 2);
        const auto found = users.find_group(staff.id);
        REQUIRE(found);
        CHECK(found->description == "everyone");
        CHECK(found->members == 2);
        CHECK_FALSE(users.find_group(999999));
        CHECK(ids(users.members_of(staff.id)) == std::vector<Id>{amy.id, zed.id});
    });
}
