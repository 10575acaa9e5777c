// The API's timestamp form, and the bodies shared by several resources.
#include "vdi/common/api/json.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace vdi::api {

std::string to_iso8601(Time t)
{
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    long fraction = static_cast<long>(micros % 1000000);
    if (fraction < 0) {
        fraction += 1000000;
        seconds -= 1;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
    return text;
}

namespace {

// Reads exactly `digits` decimal digits at `at`.
int number(std::string_view text, std::size_t& at, std::size_t digits)
{
    int value = 0;
    if (at + digits > text.size()) throw std::invalid_argument("");
    const auto [end, error] = std::from_chars(text.data() + at, text.data() + at + digits, value);
    if (error != std::errc() || end != text.data() + at + digits) throw std::invalid_argument("");
    at += digits;
    return value;
}

void expect(std::string_view text, std::size_t& at, std::string_view any_of)
{
    if (at >= text.size() || any_of.find(text[at]) == std::string_view::npos) throw std::invalid_argument("");
    ++at;
}

}  // namespace

Time parse_iso8601(std::string_view text)
{
    try {
        std::size_t at = 0;
        std::tm tm{};
        tm.tm_year = number(text, at, 4) - 1900;
        expect(text, at, "-");
        tm.tm_mon = number(text, at, 2) - 1;
        expect(text, at, "-");
        tm.tm_mday = number(text, at, 2);
        expect(text, at, "T ");
        tm.tm_hour = number(text, at, 2);
        expect(text, at, ":");
        tm.tm_min = number(text, at, 2);
        expect(text, at, ":");
        tm.tm_sec = number(text, at, 2);
        if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60) {
            throw std::invalid_argument("");
        }
        long long micros = 0;
        if (at < text.size() && text[at] == '.') {
            ++at;
            int digits = 0;
            while (at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 6) {
                micros = micros * 10 + (text[at++] - '0');
                ++digits;
            }
            if (digits == 0) throw std::invalid_argument("");
            for (; digits < 6; ++digits) micros *= 10;
        }
        long long offset_s = 0;
        if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
            ++at;
        } else if (at < text.size()) {
            const int sign = text[at] == '-' ? -1 : 1;
            expect(text, at, "+-");
            const int hours = number(text, at, 2);
            int minutes = 0;
            if (at < text.size()) {
                if (text[at] == ':') ++at;
                minutes = number(text, at, 2);
            }
            offset_s = sign * (hours * 3600LL + minutes * 60LL);
        }
        if (at != text.size()) throw std::invalid_argument("");
        const long long seconds = static_cast<long long>(timegm(&tm)) - offset_s;
        return Time(std::chrono::duration_cast<Time::duration>(std::chrono::seconds(seconds) +
                                                               std::chrono::microseconds(micros)));
    } catch (const std::invalid_argument&) {
        throw std::invalid_argument("'" + std::string(text.substr(0, 64)) +
                                    "' is not an ISO 8601 timestamp (expected 2026-11-22T06:14:26.123456+00:00)");
    }
}

namespace {
constexpr auto deleted_fields = [](auto& v, auto&& f) { f("id", v.id); };
constexpr auto status_fields = [](auto& v, auto&& f) { f("status", v.status); };
}  // namespace

void to_json(nlohmann::json& j, const Deleted& v)
{
    field::write_response(j, v, deleted_fields);
    j["deleted"] = true;
}
void from_json(const nlohmann::json& j, Deleted& v)
{
    if (!j.at("deleted").get<bool>()) throw std::invalid_argument("the answer says nothing was deleted");
    field::read(j, v, deleted_fields);
}
void to_json(nlohmann::json& j, const Status& v) { field::write_response(j, v, status_fields); }
void from_json(const nlohmann::json& j, Status& v) { field::read(j, v, status_fields); }

}  // namespace vdi::api
