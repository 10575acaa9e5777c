// The broker's request parsing and validation, and its configuration section (no database).
#include <fstream>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "vdi/broker/api.h"
#include "vdi/broker/api_request.h"
#include "vdi/broker/broker_config.h"
#include "vdi/common/error.h"

using vdi::broker::ApiError;
using vdi::broker::parse_request;

namespace {

// The status parse_request refuses with (0: accepted).
unsigned refusal(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& content_type = "application/json")
{
    try {
        parse_request(method, target, content_type, body, "");
        return 0;
    } catch (const ApiError& e) {
        return e.status();
    }
}

std::string message(const std::string& method, const std::string& target, const std::string& body)
{
    try {
        parse_request(method, target, "application/json", body, "");
        return "";
    } catch (const ApiError& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("broker requests: routes, methods and path parameters", "[broker][unit]")
{
    const auto parsed = parse_request("POST", "/api/v1/desktops/office%20pool/connect", "application/json",
                                      R"({"protocol":"rdp"})", "Bearer abc");
    CHECK(parsed.route->path == "/api/v1/desktops/{pool}/connect");
    CHECK(parsed.params == std::vector<std::string>{"office pool"});
    CHECK(parsed.body["protocol"] == "rdp");
    CHECK(parsed.bearer_token == "abc");

    CHECK(refusal("GET", "/api/v1/nothing") == 404);
    CHECK(refusal("DELETE", "/api/v1/login") == 405);
    CHECK(refusal("GET", "relative") == 400);
    CHECK(refusal("POST", "/api/v1/desktops//connect", R"({"protocol":"vnc"})") == 404);
    CHECK(refusal("POST", "/api/v1/desktops/%zz/connect", R"({"protocol":"vnc"})") == 400);
    CHECK(refusal("POST", "/api/v1/desktops/%ff/connect", R"({"protocol":"vnc"})") == 400);  // not UTF-8
    CHECK(refusal("POST", "/api/v1/desktops/a%00b/connect", R"({"protocol":"vnc"})") == 400);

    const auto admin = parse_request("GET", "/api/v1/admin/desktops?pool_id=3&limit=10&before=99", "", "", "");
    CHECK(vdi::broker::query_int(admin, "pool_id", 1, 100) == 3);
    CHECK(vdi::broker::query_int(admin, "limit", 1, 1000) == 10);
    CHECK(refusal("GET", "/api/v1/admin/desktops?color=red") == 400);
    CHECK(refusal("GET", "/api/v1/admin/desktops?limit=1&limit=2") == 400);
    const auto bad_limit = parse_request("GET", "/api/v1/admin/desktops?limit=-5", "", "", "");
    CHECK_THROWS_AS(vdi::broker::query_int(bad_limit, "limit", 1, 1000), ApiError);
    const auto bad_id = parse_request("GET", "/api/v1/admin/users/12x", "", "", "");
    CHECK_THROWS_AS(vdi::broker::id_param(bad_id, 0), ApiError);
}

TEST_CASE("broker requests: bodies are validated against the route's fields", "[broker][unit]")
{
    CHECK(refusal("POST", "/api/v1/login", R"({"user":"a","password":"b"})") == 0);
    CHECK(message("POST", "/api/v1/login", "") == "a JSON body is required");
    CHECK(message("POST", "/api/v1/login", "{\"user\":") == "the body is not valid JSON");
    CHECK(message("POST", "/api/v1/login", "[1,2]") == "the body must be a JSON object");
    CHECK(message("POST", "/api/v1/login", R"({"user":"a"})") == "field 'password' is required");
    CHECK(message("POST", "/api/v1/login", R"({"user":1,"password":"b"})") == "field 'user' must be a string");
    CHECK(message("POST", "/api/v1/login", R"({"user":"","password":"b"})") == "field 'user' must not be empty");
    CHECK(message("POST", "/api/v1/login", R"({"user":"a","password":"b","admin":true})") == "unknown field 'admin'");
    CHECK(message("POST", "/api/v1/login", "{\"user\":\"" + std::string(65, 'x') + "\",\"password\":\"b\"}") ==
          "field 'user' is longer than 64 bytes");
    CHECK(message("POST", "/api/v1/login", "{\"user\":\"a\\u0000b\",\"password\":\"b\"}") ==
          "field 'user' contains a NUL character");
    CHECK(message("POST", "/api/v1/login", "{\"user\":\"\xc3\x28\",\"password\":\"b\"}") == "the body is not valid UTF-8");
    CHECK(refusal("POST", "/api/v1/login", R"({"user":"a","password":"b"})", "text/plain") == 415);
    CHECK(message("POST", "/api/v1/desktops/p/connect", R"({"protocol":"spice"})") ==
          "field 'protocol' must be one of: vnc, rdp");
    CHECK(message("POST", "/api/v1/admin/pools", R"({"name":"p","golden_image_id":1,"min_ready":1.5})") ==
          "field 'min_ready' must be an integer");
    CHECK(message("POST", "/api/v1/admin/pools", R"({"name":"p","golden_image_id":1,"max_size":100000})") ==
          "field 'max_size' must be between 0 and 10000");
    CHECK(message("POST", "/api/v1/admin/pools", R"({"name":"p","golden_image_id":99999999999999999999})") ==
          "field 'golden_image_id' must be an integer");
    // SQL meta characters are just characters
    CHECK(refusal("POST", "/api/v1/login", R"({"user":"x' OR '1'='1","password":"'; DROP TABLE users; --"})") == 0);
}

TEST_CASE("broker requests: UTF-8 validation", "[broker][unit]")
{
    using vdi::broker::valid_utf8;
    CHECK(valid_utf8("plain ascii"));
    CHECK(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK_FALSE(valid_utf8("\xc0\xaf"));          // overlong
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(valid_utf8("\xe2\x82"));          // truncated
    CHECK_FALSE(valid_utf8("\xff"));
}

TEST_CASE("broker: throttle back-off doubles up to the maximum", "[broker][unit]")
{
    vdi::broker::ThrottlePolicy policy;
    policy.first_lock = std::chrono::seconds(30);
    policy.max_lock = std::chrono::seconds(900);
    CHECK(policy.lock_for(4, 5).count() == 0);
    CHECK(policy.lock_for(5, 5).count() == 30);
    CHECK(policy.lock_for(6, 5).count() == 60);
    CHECK(policy.lock_for(9, 5).count() == 480);
    CHECK(policy.lock_for(10, 5).count() == 900);
    CHECK(policy.lock_for(1000, 5).count() == 900);
}

TEST_CASE("broker: configuration section", "[broker][unit]")
{
    const auto load = [](const std::string& text) {
        const auto path = std::filesystem::temp_directory_path() / ("broker-config-" + std::to_string(::getpid()) + ".toml");
        { std::ofstream(path) << text; }
        auto config = vdi::Config::load(path);
        std::filesystem::remove(path);
        return vdi::broker::load_broker_config(config);
    };
    const auto defaults = load("");
    CHECK(defaults.http.port == 8443);
    CHECK(defaults.api.password_hash.mem_limit == 64u * 1024 * 1024);
    const auto custom = load("[broker]\nlisten = \"0.0.0.0:9443\"\nthreads = 4\n[broker.throttle]\nfirst_lock_s = 5\n");
    CHECK(custom.http.address == "0.0.0.0");
    CHECK(custom.http.port == 9443);
    CHECK(custom.http.threads == 4);
    CHECK(custom.api.throttle.first_lock.count() == 5);
    CHECK_THROWS_WITH(load("[broker]\nlisen = \"x\"\n"), Catch::Contains("unknown key 'lisen'"));
    CHECK_THROWS_WITH(load("[broker]\nlisten = \"nohost\"\n"), Catch::Contains("ADDRESS:PORT"));
    CHECK_THROWS_WITH(load("[broker]\nthreads = 0\n"), Catch::Contains("threads must be an integer from 1"));
    CHECK_THROWS_AS(load("[broker.argon2]\nops = 1\n"), vdi::ConfigError);
}
