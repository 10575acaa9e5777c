// The repository functions behind the broker's admin deletes and /metrics, and the one factory
// of audit entries, against a real, migrated PostgreSQL database.
#include <catch2/catch.hpp>

#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/desktop_repository.h"
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

long long count(pqxx::work& t, const std::string& sql) { return t.exec1(sql)[0].as<long long>(); }

}  // namespace

TEST_CASE("removing a user, a group or a pool takes its entitlements and memberships along", "[repo][admin]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id, "doomed");
        const auto kept = vdi::test::make_pool(t, image.id, "kept");
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        UserRepository users(t);
        PoolRepository pools(t);
        const auto staff = users.create_group("staff");
        users.add_member(staff.id, alice.id);
        users.add_member(staff.id, bob.id);
        pools.entitle_user(pool.id, alice.id);
        pools.entitle_user(kept.id, alice.id);
        pools.entitle_user(kept.id, bob.id);
        pools.entitle_group(kept.id, staff.id);
        vdi::test::make_ready_desktop(t, pool, "doomed-1");

        CHECK(users.set_display_name(bob.id, "Robert"));
        CHECK(users.find(bob.id)->display_name == "Robert");
        CHECK_FALSE(users.set_display_name(999999, "nobody"));

        CHECK(users.remove(alice.id));
        CHECK_FALSE(users.find(alice.id));
        CHECK(count(t, "SELECT count(*) FROM entitlements WHERE user_id = " + std::to_string(alice.id)) == 0);
        CHECK(users.members_of(staff.id).size() == 1);
        CHECK_FALSE(users.remove(alice.id));

        CHECK(users.remove_group(staff.id));
        CHECK_FALSE(users.find_group_by_name("staff"));
        CHECK(count(t, "SELECT count(*) FROM entitlements WHERE group_id IS NOT NULL") == 0);
        CHECK(users.groups_of(bob.id).empty());
        CHECK_FALSE(users.remove_group(staff.id));

        CHECK(pools.remove(pool.id));
        CHECK_FALSE(pools.find(pool.id));
        CHECK(count(t, "SELECT count(*) FROM desktops") == 0);
        CHECK(pools.entitlements_of(kept.id).size() == 1);  // bob's, on the pool that stays
        CHECK_FALSE(pools.remove(pool.id));
    });
}

TEST_CASE("session history is what blocks deleting a user or a pool", "[repo][admin]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto pool = vdi::test::make_pool(t, image.id);
        const auto other = vdi::test::make_pool(t, image.id, "other");
        const auto alice = vdi::test::make_user(t, "alice");
        const auto bob = vdi::test::make_user(t, "bob");
        const auto desktop = vdi::test::make_ready_desktop(t, pool, "desk-1");
        SessionRepository sessions(t);
        CHECK_FALSE(sessions.any_for_user(alice.id));
        CHECK_FALSE(sessions.any_for_pool(pool.id));
        const auto session = sessions.open({alice.id, desktop.id, pool.id, desktop.generation, DisplayProtocol::vnc,
                                            std::string("10.0.0.1")});
        sessions.end(session.id, "logoff");
        CHECK(sessions.any_for_user(alice.id));  // ended sessions count: they are history
        CHECK(sessions.any_for_pool(pool.id));
        CHECK_FALSE(sessions.any_for_user(bob.id));
        CHECK_FALSE(sessions.any_for_pool(other.id));
    });
}

TEST_CASE("the metrics gauges count ready and assigned desktops per pool, deleted ones not at all", "[repo][admin]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto image = vdi::test::make_image(t);
        const auto a = vdi::test::make_pool(t, image.id, "a-pool");
        const auto b = vdi::test::make_pool(t, image.id, "b-pool");
        const auto alice = vdi::test::make_user(t, "alice");
        DesktopRepository desktops(t);
        vdi::test::make_ready_desktop(t, a, "a-1");
        vdi::test::make_ready_desktop(t, a, "a-2");
        const auto gone = vdi::test::make_ready_desktop(t, a, "a-3");
        desktops.set_desired_state(gone.id, DesktopDesiredState::deleted);
        REQUIRE(desktops.claim_floating(a.id, alice.id));

        const auto gauges = desktops.gauges_by_pool();
        REQUIRE(gauges.size() == 2);
        CHECK(gauges[0].pool == "a-pool");
        CHECK(gauges[0].ready == 1);
        CHECK(gauges[0].in_use == 1);
        CHECK(gauges[1].pool == "b-pool");  // a pool without desktops is still a series
        CHECK(gauges[1].ready == 0);
        CHECK(gauges[1].in_use == 0);
    });
}

TEST_CASE("AuditEntry::of fills every field of an entry as it is stored", "[repo][audit]")
{
    TestDatabase db;
    tx(db, [](pqxx::work& t) {
        const auto alice = vdi::test::make_user(t, "alice");
        AuditRepository audit(t);
        const auto by_user = audit.append(AuditEntry::of({alice.id, "alice", std::string("10.0.0.7")}, "pool.create",
                                                         "pool", "3", {{"name", "demo"}}));
        CHECK(by_user.actor_user_id == alice.id);
        CHECK(by_user.actor == "alice");
        CHECK(by_user.action == "pool.create");
        CHECK(by_user.target_type == "pool");
        CHECK(by_user.target_id == "3");
        CHECK(by_user.success);
        CHECK(by_user.source_address == "10.0.0.7");
        CHECK(by_user.details == nlohmann::json{{"name", "demo"}});

        const auto failed = audit.append(AuditEntry::of({std::nullopt, "mallory", std::string("10.0.0.8")},
                                                        "user.login", "user", "mallory", {{"reason", "unknown user"}},
                                                        false));
        CHECK_FALSE(failed.actor_user_id);
        CHECK_FALSE(failed.success);
        const auto component =
            audit.append(AuditEntry::of({std::nullopt, "vdictl@root", std::nullopt}, "user.bootstrap", std::nullopt,
                                        std::nullopt));
        CHECK_FALSE(component.source_address);
        CHECK_FALSE(component.target_type);
        CHECK(component.details == nlohmann::json::object());
    });
}
