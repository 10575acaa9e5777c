// Fuzz target for the broker's request parsing and JSON validation (libFuzzer entry point).
//
// Input: "METHOD\nTARGET\nCONTENT-TYPE\nAUTHORIZATION\nBODY...". The parser may refuse an input
// (ApiError with a 4xx status); it must never crash, hang, or accept something that breaks the
// rules it promises: accepted bodies are objects holding only the route's fields, every string
// in them is valid UTF-8, and path parameters are valid UTF-8 without NUL.
#include <cstdint>
#include <string>
#include <vector>

#include "vdi/broker/api_request.h"

namespace {

std::string next_line(const std::string& input, std::size_t& at)
{
    const auto end = input.find('\n', at);
    std::string line = input.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? input.size() : end + 1;
    return line;
}

void check(bool condition)
{
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::size_t at = 0;
    const std::string method = next_line(input, at);
    const std::string target = next_line(input, at);
    const std::string content_type = next_line(input, at);
    const std::string authorization = next_line(input, at);
    const std::string body = input.substr(at);
    try {
        const auto request = vdi::broker::parse_request(method, target, content_type, body, authorization);
        check(request.route != nullptr && request.route->method == method);
        check(request.body.is_object());
        for (const auto& [name, value] : request.body.items()) {
            bool known = false;
            for (const auto& field : request.route->body) known = known || field.name == name;
            check(known);
            if (value.is_string()) check(vdi::broker::valid_utf8(value.get<std::string>()));
        }
        for (const auto& param : request.params) {
            check(vdi::broker::valid_utf8(param) && param.find('\0') == std::string::npos);
        }
        for (std::size_t i = 0; i < request.params.size(); ++i) {
            try {
                check(vdi::broker::id_param(request, i) > 0);
            } catch (const vdi::broker::ApiError& e) {
                check(e.status() == 404);
            }
        }
        for (const auto& [name, value] : request.query) {
            try {
                vdi::broker::query_int(request, name, 1, 1000);
            } catch (const vdi::broker::ApiError& e) {
                check(e.status() == 400);
            }
        }
    } catch (const vdi::broker::ApiError& e) {
        check(e.status() >= 400 && e.status() < 500);
    }
    return 0;
}

std::vector<std::vector<std::uint8_t>> fuzz_seeds()
{
    const std::vector<std::string> requests = {
        "POST\n/api/v1/login\napplication/json\n\n{\"user\":\"alice\",\"password\":\"s3cret\"}",
        "POST\n/api/v1/desktops/office%20pool/connect\napplication/json\nBearer abc\n{\"protocol\":\"rdp\"}",
        "GET\n/api/v1/admin/desktops?pool_id=3&state=running&limit=10&before=99\n\nBearer abc\n",
        "POST\n/api/v1/admin/pools\napplication/json\nBearer abc\n{\"name\":\"p\",\"golden_image_id\":1,"
        "\"min_ready\":2,\"max_size\":9,\"protocols\":[\"vnc\",\"rdp\"],\"enabled\":true,\"refresh_cron\":\"0 3 * * *\"}",
        "PATCH\n/api/v1/admin/users/12\napplication/json\nBearer abc\n{\"display_name\":\"caf\xc3\xa9\",\"disabled\":false}",
        "DELETE\n/api/v1/admin/groups/3/members/7\n\nBearer abc\n",
    };
    std::vector<std::vector<std::uint8_t>> seeds;
    for (const auto& r : requests) seeds.emplace_back(r.begin(), r.end());
    return seeds;
}

const char* fuzz_target_name()
{
    return "the broker's request parser";
}
