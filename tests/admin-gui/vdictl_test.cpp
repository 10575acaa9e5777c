// vdictl against a real broker over HTTPS: the stored login, every resource's commands, the
// output, the exit codes and certificate trust. vdictl runs as a real process.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vdi/common/crypto.h"
#include "vdi/common/db/audit_repository.h"
#include "vdi/common/db/host_repository.h"
#include "vdi/common/db/user_repository.h"
#include "vdictl_harness.h"

using vdi::test::VdictlFixture;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path)
{
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

nlohmann::json read_json(const fs::path& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

// The JSON vdictl printed on stdout; run_process mixes stderr in, so the last line that parses.
nlohmann::json json_of(const std::string& output)
{
    std::stringstream lines(output);
    std::string line;
    nlohmann::json found = nlohmann::json::parse("null");
    bool any = false;
    while (std::getline(lines, line)) {
        auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_array() || parsed.is_object())) {
            found = parsed;
            any = true;
        }
    }
    INFO(output);
    REQUIRE(any);
    return found;
}

}  // namespace

TEST_CASE("vdictl login: the token is stored 0600 in a 0700 directory, logout revokes it and deletes the file",
          "[vdictl]")
{
    VdictlFixture f;
    const auto bootstrap = f.run({"--dsn", f.db().dsn(), "bootstrap-admin", "root", "--password-stdin"},
                                 "bootstrap secret\n");
    INFO(bootstrap.output);
    REQUIRE(bootstrap.exit_code == 0);

    const auto login = f.run({"login", "--broker", f.url(), "--ca", f.broker().certificate().string(), "--user", "root",
                              "--password-stdin"},
                             "bootstrap secret\n");
    INFO(login.output);
    REQUIRE(login.exit_code == 0);
    CHECK_THAT(login.output, Catch::Contains("logged in to " + f.url() + " as root (role admin)"));
    CHECK_THAT(login.output, !Catch::Contains("bootstrap secret"));
    REQUIRE(fs::exists(f.login_file()));
    CHECK(mode_of(f.login_file()) == 0600);
    CHECK(mode_of(f.login_file().parent_path()) == 0700);
    const auto stored = read_json(f.login_file());
    CHECK(stored["broker"] == f.url());
    CHECK(stored["username"] == "root");
    CHECK(stored["ca_file"] == fs::absolute(f.broker().certificate()).string());
    const std::string token = stored["token"];
    CHECK(token.size() >= 40);
    CHECK_THAT(login.output, !Catch::Contains(token));

    // the stored token is the broker's
    auto client = f.broker().client();
    CHECK(client->get("/api/v1/me", token).status == 200);
    const auto whoami = f.run({"whoami"});
    CHECK(whoami.exit_code == 0);
    CHECK_THAT(whoami.output, Catch::Contains("root") && Catch::Contains("admin"));

    const auto logout = f.run({"logout"});
    INFO(logout.output);
    CHECK(logout.exit_code == 0);
    CHECK_FALSE(fs::exists(f.login_file()));
    CHECK(client->get("/api/v1/me", token).status == 401);  // revoked, not only forgotten
    const auto after = f.run({"pool", "list"});
    CHECK(after.exit_code == 6);
    CHECK_THAT(after.output, Catch::Contains("vdictl login"));
}

TEST_CASE("vdictl user: add, show, list, update, disable, enable, delete through the API, refusals, the broker audits",
          "[vdictl]")
{
    VdictlFixture f;
    f.login_as("root", "root-password", vdi::db::UserRole::admin);

    const auto added = f.run({"user", "add", "alice", "--role", "admin", "--display-name", "Alice A", "--password-stdin"},
                             "correct horse battery\n");
    INFO(added.output);
    REQUIRE(added.exit_code == 0);
    CHECK_THAT(added.output, Catch::Contains("created user alice"));

    const auto shown = f.run({"user", "show", "ALICE"});
    CHECK(shown.exit_code == 0);
    CHECK_THAT(shown.output, Catch::Contains("role:") && Catch::Contains("admin") &&
                                 Catch::Contains("display name: Alice A"));
    const auto nobody = f.run({"user", "show", "nobody"});
    CHECK(nobody.exit_code == 3);
    CHECK_THAT(nobody.output, Catch::Contains("no user named 'nobody'"));

    // refusals are the broker's, with its message
    const auto duplicate = f.run({"user", "add", "Alice", "--password-stdin"}, "another password\n");
    CHECK(duplicate.exit_code == 3);
    CHECK_THAT(duplicate.output, Catch::Contains("409") && Catch::Contains("users_username_key"));
    const auto short_password = f.run({"user", "add", "bob", "--password-stdin"}, "short\n");
    CHECK(short_password.exit_code == 3);
    CHECK_THAT(short_password.output, Catch::Contains("shorter than 8 characters") && Catch::Contains("400"));
    const auto bad_role = f.run({"user", "add", "bob", "--role", "root"}, "");
    CHECK(bad_role.exit_code == 2);

    REQUIRE(f.run({"user", "update", "alice", "--display-name", "Alice B", "--role", "user"}).exit_code == 0);
    REQUIRE(f.run({"user", "disable", "alice"}).exit_code == 0);
    const auto listed = f.run({"user", "list"});
    CHECK(listed.exit_code == 0);
    CHECK_THAT(listed.output, Catch::Contains("USERNAME") && Catch::Contains("alice") && Catch::Contains("disabled"));
    const auto listed_json = f.run({"user", "list", "--json"});
    CHECK(listed_json.exit_code == 0);
    const auto users = json_of(listed_json.output);
    REQUIRE(users.is_array());
    CHECK(users.size() == 2);

    vdi::db::in_transaction(f.db().connection(), "inspect", [](pqxx::work& tx) {
        const auto alice = vdi::db::UserRepository(tx).find_by_username("alice");
        REQUIRE(alice);
        CHECK(alice->disabled);
        CHECK(alice->display_name == "Alice B");
        CHECK(alice->role == vdi::db::UserRole::user);
        // the stored hash is Argon2id of the password given on stdin, and nothing else
        CHECK(vdi::verify_password("correct horse battery", alice->password_hash));
        CHECK_FALSE(vdi::verify_password("correct horse battery\n", alice->password_hash));
        vdi::db::AuditFilter filter;
        filter.action_prefix = "user.";
        std::vector<std::string> actions;
        for (const auto& entry : vdi::db::AuditRepository(tx).list(filter)) {
            if (entry.action == "user.login") continue;
            actions.push_back(entry.action);
            CHECK(entry.actor == "root");  // the broker's record, with the admin as actor
            CHECK(entry.details.dump().find("correct horse") == std::string::npos);
        }
        CHECK(actions == std::vector<std::string>{"user.disable", "user.update", "user.create"});
    });

    REQUIRE(f.run({"user", "enable", "alice"}).exit_code == 0);
    const auto audit = f.run({"audit", "list", "--action", "user.", "--actor", "root", "--json"});
    CHECK(audit.exit_code == 0);
    const auto entries = json_of(audit.output);
    REQUIRE(entries.size() >= 4);
    CHECK(entries[0]["action"] == "user.update");  // the enable, newest first
    const auto audit_table = f.run({"audit", "list", "--limit", "2"});
    CHECK(audit_table.exit_code == 0);
    CHECK_THAT(audit_table.output, Catch::Contains("ACTION") && Catch::Contains("--before"));

    REQUIRE(f.run({"user", "delete", "alice"}).exit_code == 0);
    CHECK(f.run({"user", "show", "alice"}).exit_code == 3);
    const auto self = f.run({"user", "delete", "root"});
    CHECK(self.exit_code == 3);
    CHECK_THAT(self.output, Catch::Contains("you cannot delete yourself"));
}

TEST_CASE("vdictl pool, image, group: create and list round-trips, entitlements, jobs, --json", "[vdictl]")
{
    VdictlFixture f;
    f.login_as("root", "root-password", vdi::db::UserRole::admin);

    REQUIRE(f.run({"image", "register", "--name", "gold", "--state-path", "/var/images/gold/state", "--memory-path",
                   "/var/images/gold/memory", "--memory-mib", "64"})
                .exit_code == 0);
    const auto created = f.run({"pool", "create", "--name", "office", "--image", "gold", "--min-ready", "0",
                                "--max-size", "2", "--protocols", "vnc,rdp", "--display-name", "Office desktops"});
    INFO(created.output);
    REQUIRE(created.exit_code == 0);
    CHECK_THAT(created.output, Catch::Contains("created pool office"));

    const auto listed = f.run({"pool", "list"});
    CHECK(listed.exit_code == 0);
    CHECK_THAT(listed.output, Catch::Contains("NAME") && Catch::Contains("office"));
    const auto listed_json = f.run({"pool", "list", "--json"});
    CHECK(listed_json.exit_code == 0);
    const auto pools = json_of(listed_json.output);
    REQUIRE(pools.size() == 1);
    CHECK(pools[0]["name"] == "office");
    CHECK(pools[0]["max_size"] == 2);
    CHECK(pools[0]["protocols"] == nlohmann::json({"vnc", "rdp"}));

    const auto taken = f.run({"pool", "create", "--name", "office", "--image", "gold"});
    CHECK(taken.exit_code == 3);
    CHECK_THAT(taken.output, Catch::Contains("409"));
    CHECK(f.run({"pool", "create", "--name", "x"}).exit_code == 2);  // --image is required
    CHECK(f.run({"pool", "create", "--name", "x", "--image", "nonesuch"}).exit_code == 3);

    // users and groups entitled
    f.run({"user", "add", "carol", "--password-stdin"}, "carol-password\n");
    REQUIRE(f.run({"group", "add", "staff", "--description", "everyone"}).exit_code == 0);
    REQUIRE(f.run({"group", "add-member", "staff", "carol"}).exit_code == 0);
    const auto group = f.run({"group", "show", "staff"});
    CHECK_THAT(group.output, Catch::Contains("members (1)") && Catch::Contains("carol"));
    REQUIRE(f.run({"pool", "entitle", "office", "--group", "staff"}).exit_code == 0);
    REQUIRE(f.run({"pool", "entitle", "office", "--user", "carol"}).exit_code == 0);
    CHECK(f.run({"pool", "entitle", "office"}).exit_code == 2);
    const auto shown = f.run({"pool", "show", "office"});
    CHECK_THAT(shown.output, Catch::Contains("entitlements (2)") && Catch::Contains("staff") &&
                                 Catch::Contains("Office desktops"));
    REQUIRE(f.run({"pool", "revoke", "office", "--group", "staff"}).exit_code == 0);
    CHECK_THAT(f.run({"pool", "show", "office"}).output, Catch::Contains("entitlements (1)"));
    CHECK(f.run({"pool", "revoke", "office", "--group", "staff"}).exit_code == 3);
    REQUIRE(f.run({"group", "remove-member", "staff", "carol"}).exit_code == 0);
    REQUIRE(f.run({"group", "delete", "staff"}).exit_code == 0);
    CHECK_THAT(f.run({"group", "list"}).output, !Catch::Contains("staff"));

    REQUIRE(f.run({"pool", "update", "office", "--max-size", "3", "--disable"}).exit_code == 0);
    const auto updated = json_of(f.run({"pool", "show", "office", "--json"}).output);
    CHECK(updated["max_size"] == 3);
    CHECK(updated["enabled"] == false);
    CHECK(updated["min_ready"] == 0);  // unchanged
    CHECK(f.run({"pool", "update", "office", "--min-ready", "9"}).exit_code == 3);  // min_ready > max_size

    // jobs: a refresh, a push to an image that is not ready (refused), then ready
    const auto refresh = f.run({"pool", "refresh", "office", "--force-after", "60"});
    INFO(refresh.output);
    REQUIRE(refresh.exit_code == 0);
    const auto jobs = json_of(f.run({"job", "list", "--pool", "office", "--json"}).output);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0]["type"] == "refresh_pool");
    const std::string job_id = std::to_string(jobs[0]["id"].get<long long>());
    CHECK_THAT(f.run({"job", "show", job_id}).output, Catch::Contains("refresh_pool") && Catch::Contains("office"));
    CHECK(f.run({"job", "cancel", job_id}).exit_code == 0);
    REQUIRE(f.run({"image", "register", "--name", "gold", "--state-path", "/s2", "--memory-path", "/m2", "--memory-mib",
                   "64", "--state", "building"})
                .exit_code == 0);
    const auto not_ready = f.run({"pool", "push", "office", "--image", "gold"});  // the newest: v2, building
    CHECK(not_ready.exit_code == 3);
    CHECK_THAT(not_ready.output, Catch::Contains("not ready"));
    REQUIRE(f.run({"image", "set-state", "gold:2", "ready"}).exit_code == 0);
    CHECK(f.run({"pool", "push", "office", "--image", "gold"}).exit_code == 0);
    const auto images = f.run({"image", "list"});
    CHECK_THAT(images.output, Catch::Contains("gold") && Catch::Contains("ready"));
    CHECK_THAT(f.run({"image", "show", "gold:1"}).output, Catch::Contains("/var/images/gold/state"));

    // the read-only lists answer (empty here), and the filters reach the broker
    CHECK(f.run({"desktop", "list", "--pool", "office", "--state", "running"}).exit_code == 0);
    CHECK(f.run({"desktop", "list", "--state", "asleep"}).exit_code == 3);  // the broker checks the state
    CHECK(f.run({"session", "list", "--live", "--user", "carol"}).exit_code == 0);
    CHECK(f.run({"host", "list"}).exit_code == 0);
    CHECK(f.run({"job", "list", "--state", "cancelled"}).exit_code == 0);

    REQUIRE(f.run({"pool", "delete", "office"}).exit_code == 0);
    CHECK(json_of(f.run({"pool", "list", "--json"}).output).empty());
}

TEST_CASE("vdictl exit codes: usage 2, refused 3, unreachable 5, not logged in 6", "[vdictl]")
{
    VdictlFixture f;
    CHECK(f.run({}).exit_code == 2);
    CHECK(f.run({"pool"}).exit_code == 2);
    CHECK(f.run({"pool", "frobnicate"}).exit_code == 2);
    CHECK(f.run({"pool", "list", "--no-such-option"}).exit_code == 2);
    CHECK(f.run({"--help"}).exit_code == 0);

    const auto not_logged_in = f.run({"pool", "list"});
    CHECK(not_logged_in.exit_code == 6);
    CHECK_THAT(not_logged_in.output, Catch::Contains("not logged in") && Catch::Contains("vdictl login"));

    // a closed port on this machine: nothing listens on port 1
    const auto closed = f.run({"--broker", "https://127.0.0.1:1", "pool", "list"}, "", {"VDI_TOKEN=whatever"});
    CHECK(closed.exit_code == 5);
    CHECK_THAT(closed.output, Catch::Contains("cannot reach the broker at https://127.0.0.1:1"));
    const auto closed_login =
        f.run({"login", "--broker", "127.0.0.1:1", "--user", "x", "--password-stdin"}, "password\n");
    CHECK(closed_login.exit_code == 5);
    CHECK(f.run({"login", "--broker", "http://127.0.0.1:1", "--user", "x", "--password-stdin"}, "p\n").exit_code == 2);

    const auto wrong_password = f.run({"login", "--broker", f.url(), "--ca", f.broker().certificate().string(), "--user",
                                       "nobody", "--password-stdin"},
                                      "wrong password\n");
    CHECK(wrong_password.exit_code == 3);
    CHECK_THAT(wrong_password.output, Catch::Contains("401"));
    CHECK_FALSE(fs::exists(f.login_file()));

    // a non-admin: logged in, but the admin API refuses (403)
    f.login_as("dave", "dave-password", vdi::db::UserRole::user);
    const auto forbidden = f.run({"pool", "list"});
    CHECK(forbidden.exit_code == 3);
    CHECK_THAT(forbidden.output, Catch::Contains("403") && Catch::Contains("forbidden"));

    // a token the broker no longer accepts
    auto client = f.broker().client();
    const std::string token = read_json(f.login_file())["token"];
    REQUIRE(client->post("/api/v1/logout", nlohmann::json::object(), token).status == 200);
    const auto revoked = f.run({"whoami"});
    CHECK(revoked.exit_code == 6);
    CHECK_THAT(revoked.output, Catch::Contains("vdictl login"));
    // and the stored token never goes to another broker
    const auto elsewhere = f.run({"--broker", "https://127.0.0.2:8443", "whoami"});
    CHECK(elsewhere.exit_code == 6);
    CHECK_THAT(elsewhere.output, Catch::Contains("logged in to " + f.url()));
}

TEST_CASE("vdictl trust: a pinned fingerprint works, a mismatch is refused with the fingerprint seen, nothing "
          "trusted is refused",
          "[vdictl]")
{
    VdictlFixture f;
    const std::string seen = vdi::test::certificate_fingerprint(f.broker().certificate());
    vdi::db::in_transaction(f.db().connection(), "seed", [](pqxx::work& tx) {
        vdi::test::make_user_with_password(tx, "root", "root-password", vdi::db::UserRole::admin);
    });
    const auto login = [&](const std::vector<std::string>& trust) {
        std::vector<std::string> args = {"login", "--broker", f.url(), "--user", "root", "--password-stdin"};
        args.insert(args.end(), trust.begin(), trust.end());
        return f.run(args, "root-password\n");
    };

    const auto untrusted = login({});
    CHECK(untrusted.exit_code == 5);
    CHECK_THAT(untrusted.output, Catch::Contains("not trusted") && Catch::Contains(seen) && Catch::Contains("--pin"));
    CHECK_FALSE(fs::exists(f.login_file()));

    const std::string other(64, 'a');
    const auto mismatch = login({"--pin", other});
    CHECK(mismatch.exit_code == 5);
    CHECK_THAT(mismatch.output, Catch::Contains("fingerprint " + seen) && Catch::Contains("refused"));
    CHECK_FALSE(fs::exists(f.login_file()));
    CHECK(login({"--pin", "12:34"}).exit_code == 2);

    // pinned (lower case, no colons is the same fingerprint); later commands keep the pin
    std::string bare;
    for (const char c : seen) {
        if (c != ':') bare.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    const auto pinned = login({"--pin", bare});
    INFO(pinned.output);
    REQUIRE(pinned.exit_code == 0);
    CHECK(read_json(f.login_file())["pin"] == seen);
    CHECK(f.run({"host", "list"}).exit_code == 0);
    // the pin overrides for one command, and a wrong one is refused there too
    CHECK(f.run({"--pin", other, "host", "list"}).exit_code == 5);

    // scripts: broker, trust and token from the environment, no stored login needed
    const std::string token = read_json(f.login_file())["token"];
    fs::remove(f.login_file());
    const auto scripted = f.run({"pool", "list", "--json"}, "",
                                {"VDI_BROKER=" + f.url(), "VDI_TOKEN=" + token,
                                 "VDI_CA=" + f.broker().certificate().string()});
    INFO(scripted.output);
    CHECK(scripted.exit_code == 0);
    CHECK(json_of(scripted.output).is_array());
}

TEST_CASE("vdictl status: the broker's readiness and counts, through the API", "[vdictl]")
{
    VdictlFixture f;
    f.login_as("root", "root-password", vdi::db::UserRole::admin);
    const auto status = f.run({"status"});
    INFO(status.output);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.output, Catch::Contains("broker: " + f.url() + " (ready)") && Catch::Contains("users: 1") &&
                                  Catch::Contains("logged in as: root"));
    const auto json = json_of(f.run({"status", "--json"}).output);
    CHECK(json["readyz"]["status"] == "ready");
    CHECK(json["users"].size() == 1);
}

TEST_CASE("vdictl host drain and undrain: by name or id, shown in the host list, audited", "[vdictl]")
{
    VdictlFixture f;
    f.login_as("root", "root-password", vdi::db::UserRole::admin);
    const auto host = vdi::db::in_transaction(f.db().connection(), "a host", [](pqxx::work& tx) {
        return vdi::db::HostRepository(tx).register_host({"rack-7", "127.0.0.1", 2, 1024, 2, "0.1.0"});
    });
    const auto drained = f.run({"host", "drain", "rack-7"});
    INFO(drained.output);
    CHECK(drained.exit_code == 0);
    CHECK_THAT(drained.output, Catch::Contains("host rack-7 is drained: no new desktops go there"));
    CHECK_THAT(f.run({"host", "list"}).output, Catch::Contains("online, drained"));
    const auto back = f.run({"host", "undrain", std::to_string(host.id)});
    CHECK(back.exit_code == 0);
    CHECK_THAT(back.output, Catch::Contains("host rack-7 takes new desktops again"));
    CHECK_THAT(f.run({"host", "list"}).output, !Catch::Contains("drained"));
    const auto missing = f.run({"host", "drain", "no-such-host"});
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.output, Catch::Contains("no host named 'no-such-host'"));
    CHECK(vdi::db::in_transaction(f.db().connection(), "count", [](pqxx::work& tx) {
              return tx.exec1("SELECT count(*) FROM audit_log WHERE action IN ('host.drain', 'host.undrain')")[0].as<long>();
          }) == 2);
}
