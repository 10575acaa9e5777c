// docs/api.md and the route table agree: every route is documented, and the page names no
// route the broker does not serve.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "vdi/broker/api_request.h"

TEST_CASE("docs/api.md names every route of the route table and no other")
{
    std::ifstream file(VDI_API_DOCS);
    REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    const std::string page = text.str();

    // a route in the page: `METHOD /path` in code quotes (headings, tables and prose alike)
    std::set<std::string> documented;
    static const std::regex route_pattern(R"(`(GET|POST|PUT|PATCH|DELETE) (/[^` ?]*)[^`]*`)");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), route_pattern); it != std::sregex_iterator();
         ++it) {
        documented.insert((*it)[1].str() + " " + (*it)[2].str());
    }
    std::set<std::string> served;
    for (const auto& route : vdi::broker::api_routes()) {
        served.insert(route.method + " " + route.path);
    }
    REQUIRE(served.size() == vdi::broker::api_routes().size());  // (no route twice)

    for (const auto& route : served) {
        CAPTURE(route);
        CHECK(documented.count(route) == 1);
    }
    for (const auto& route : documented) {
        CAPTURE(route);
        CHECK(served.count(route) == 1);
    }
}
