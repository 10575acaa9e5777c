// vdictl's parts that need no broker: tables that fit a terminal, timestamps, broker addresses,
// fingerprints, and the login file's permissions.
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "credential_store.h"
#include "table.h"
#include "views.h"
#include "vdi/admin/broker_client.h"

using namespace vdi::admin;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

const std::vector<TableColumn> columns = {
    {"ID", 1, false, true}, {"NAME", 1}, {"STATE", 1}, {"DETAILS", 3, true}, {"CREATED", 2}};
const std::vector<std::vector<std::string>> rows = {
    {"7", "office", "enabled", "a long free-text description of what this pool is for", "2026-11-22 07:14:26"},
    {"12", "lab", "disabled", "-", "2026-11-23 08:00:00"}};

}  // namespace

TEST_CASE("table: aligned columns, every one without a width limit", "[vdictl][table]")
{
    const auto lines = lines_of(render_table(columns, rows, std::nullopt));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].rfind("ID  NAME    STATE     DETAILS", 0) == 0);
    CHECK(lines[1].rfind(" 7  office  enabled   a long free-text description of what this pool is for", 0) == 0);
    CHECK(lines[2].rfind("12  lab     disabled  -", 0) == 0);
    CHECK(lines[1].find("2026-11-22 07:14:26") != std::string::npos);
    // columns line up: CREATED starts at the same place in every line
    CHECK(lines[0].find("CREATED") == lines[1].find("2026-11-22"));
    CHECK(lines[1].back() != ' ');
}

TEST_CASE("table: on a narrow terminal free text is capped and cut, then optional columns go", "[vdictl][table]")
{
    for (const std::size_t width : {100u, 60u, 45u, 30u}) {
        INFO(width);
        const auto text = render_table(columns, rows, width);
        for (const auto& line : lines_of(text)) {
            CHECK(display_width(line) <= width);
        }
        CHECK(text.find("office") != std::string::npos);  // priority 1 stays
    }
    const auto wide = render_table(columns, rows, 100);
    CHECK(wide.find("CREATED") != std::string::npos);
    CHECK(wide.find("…") != std::string::npos);  // the description was capped at 40
    const auto narrow = render_table(columns, rows, 45);
    CHECK(narrow.find("DETAILS") == std::string::npos);  // priority 3 went first
    CHECK(narrow.find("CREATED") != std::string::npos);
    const auto narrower = render_table(columns, rows, 30);
    CHECK(narrower.find("CREATED") == std::string::npos);
    CHECK(narrower.find("STATE") != std::string::npos);
}

TEST_CASE("table: an empty list is its header, fields line up", "[vdictl][table]")
{
    CHECK(render_table(columns, {}, 80) == "ID  NAME  STATE  DETAILS  CREATED\n");
    CHECK(render_fields({{"id", "3"}, {"display name", "Ünïcode"}}) == "id:           3\ndisplay name: Ünïcode\n");
    CHECK(display_width("Ünïcode…") == 8);
}

TEST_CASE("timestamps: the API's ISO 8601 shown in local time, readable", "[vdictl][table]")
{
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    CHECK(format_timestamp("2026-11-22T06:14:26.123456+00:00") == "2026-11-22 06:14:26");
    CHECK(format_timestamp("2026-11-22T06:14:26+02:00") == "2026-11-22 04:14:26");
    CHECK(format_timestamp("2026-11-22T06:14:26Z") == "2026-11-22 06:14:26");
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
    CHECK(format_timestamp("2026-11-22T06:14:26.5+00:00") == "2026-11-22 07:14:26");
    CHECK(format_timestamp("") == "-");
    CHECK(format_timestamp("yesterday") == "yesterday");
    ::unsetenv("TZ");
    ::tzset();
}

TEST_CASE("broker addresses: hosts, ports and https URLs, http, credentials and paths refused", "[vdictl]")
{
    CHECK(BrokerAddress::parse("broker.example.org").url() == "https://broker.example.org:8443");
    CHECK(BrokerAddress::parse("127.0.0.1:9443").url() == "https://127.0.0.1:9443");
    CHECK(BrokerAddress::parse("HTTPS://b:1/").url() == "https://b:1");
    CHECK(BrokerAddress::parse("https://b/api/v1/").port == 8443);
    CHECK(BrokerAddress::parse("[::1]:8443").host == "::1");
    CHECK(BrokerAddress::parse("[::1]:8443").url() == "https://[::1]:8443");
    CHECK_THROWS_WITH(BrokerAddress::parse("http://b"), Catch::Contains("must use https"));
    CHECK_THROWS_WITH(BrokerAddress::parse("https://u:p@b"), Catch::Contains("credentials"));
    CHECK_THROWS_WITH(BrokerAddress::parse("https://b/x"), Catch::Contains("path"));
    CHECK_THROWS_WITH(BrokerAddress::parse("b:0"), Catch::Contains("port"));
    CHECK_THROWS_WITH(BrokerAddress::parse("b:99999"), Catch::Contains("port"));
    CHECK_THROWS_WITH(BrokerAddress::parse("b?x=1"), Catch::Contains("query"));
    CHECK_THROWS(BrokerAddress::parse(""));
    CHECK_THROWS(BrokerAddress::parse("::1"));
}

TEST_CASE("fingerprints: with or without colons, any case, anything else refused", "[vdictl]")
{
    const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    const std::string normal =
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    CHECK(normalize_fingerprint(hex) == normal);
    CHECK(normalize_fingerprint(normal) == normal);
    CHECK_THROWS_WITH(normalize_fingerprint(hex.substr(2)), Catch::Contains("62 hex digits, not 64"));
    CHECK_THROWS_WITH(normalize_fingerprint("sha256//" + hex), Catch::Contains("not a SHA-256 fingerprint"));
}

TEST_CASE("the login file: 0600 in a 0700 directory, replaced whole, refused when others may read it", "[vdictl]")
{
    const fs::path root = fs::temp_directory_path() / ("vdictl-store-" + std::to_string(::getpid()));
    fs::remove_all(root);
    const CredentialStore store(root / "config" / "vdi" / "vdictl.json");
    CHECK_FALSE(store.load());
    StoredLogin login;
    login.broker = "https://127.0.0.1:8443";
    login.pin = "AA";
    login.token = "secret-token";
    login.username = "root";
    store.save(login);
    struct stat info {};
    REQUIRE(::stat(store.file().c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0600);
    REQUIRE(::stat(store.file().parent_path().c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0700);
    const auto loaded = store.load();
    REQUIRE(loaded);
    CHECK(loaded->token == "secret-token");
    CHECK(loaded->pin == "AA");
    CHECK_FALSE(loaded->ca_file);
    login.token = "second";
    store.save(login);
    CHECK(store.load()->token == "second");
    CHECK_FALSE(fs::exists(store.file().string() + ".tmp"));

    ::chmod(store.file().c_str(), 0644);
    CHECK_THROWS_WITH(store.load(), Catch::Contains("others may read it"));
    std::ofstream(store.file(), std::ios::trunc) << "not json";
    ::chmod(store.file().c_str(), 0600);
    CHECK_THROWS_WITH(store.load(), Catch::Contains("not valid JSON"));
    CHECK(store.remove());
    CHECK_FALSE(store.remove());

    ::setenv("XDG_CONFIG_HOME", "/x/conf", 1);
    CHECK(CredentialStore::default_file() == "/x/conf/vdi/vdictl.json");
    ::setenv("XDG_CONFIG_HOME", "relative", 1);  // ignored, as the XDG spec says
    ::setenv("HOME", "/home/u", 1);
    CHECK(CredentialStore::default_file() == "/home/u/.config/vdi/vdictl.json");
    ::unsetenv("XDG_CONFIG_HOME");
    fs::remove_all(root);
}

TEST_CASE("vdictl session timing prints each connect as a tree beside the pool's normal", "[vdictl]")
{
    // (the shape GET /api/v1/admin/sessions/{id}/timing answers with; the broker's own tests
    // check that it does)
    const auto timing = nlohmann::json::parse(R"({"session_id": 7, "pool_id": 1, "traces": [
      {"trace_id": 311, "at": "2026-12-03 15:02:06+00", "protocol": "vnc", "resumed": false, "reconnect": false,
       "client_reported": true, "total_ms": 200.0, "unaccounted_ms": 5.0, "pool_total_p50_ms": 190.0,
       "pool_total_p95_ms": 240.0,
       "stages": [
         {"component": "client", "stage": "sign_in", "start_ms": 0.0, "duration_ms": 120.0,
          "pool_p50_ms": 118.5, "pool_p95_ms": 150.0},
         {"component": "client", "stage": "connect_request", "start_ms": 125.0, "duration_ms": 40.0,
          "unaccounted_ms": 2.0,
          "stages": [{"component": "broker", "stage": "request", "start_ms": 126.0, "duration_ms": 38.0}]}]},
      {"trace_id": 312, "at": "2026-12-03 15:05:00+00", "protocol": "rdp", "resumed": true, "reconnect": true,
       "client_reported": false, "total_ms": 9.0,
       "stages": [{"component": "broker", "stage": "request", "start_ms": 0.0, "duration_ms": 9.0}]}]})");
    const auto text = vdi::admin::timing_text(timing);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("session 7: 2 connects traced"));
    CHECK_THAT(text, Catch::Contains("connect 311 at 2026-12-03 15:02:06+00 over vnc: a login, 200.0 ms to the first "
                                     "picture   pool p50 190.0 / p95 240.0 ms"));
    CHECK_THAT(text, Catch::Contains("client sign_in") && Catch::Contains("120.0 ms   pool p50 118.5 / p95 150.0 ms"));
    CHECK_THAT(text, Catch::Contains("    broker request"));  // nested one level deeper
    CHECK_THAT(text, Catch::Contains("an automatic reconnect to the running session"));
    CHECK_THAT(text, Catch::Contains("the thin client did not report its stages"));
    CHECK(text.find("unaccounted") != std::string::npos);
}
