// Cron parsing and evaluation. Local-time conversions use the C library with TZ set for the
// call, under one mutex (the C library's zone state is process-global).
#include "vdi/pool/cron.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <vector>

namespace vdi::pool {
namespace {

std::vector<std::string> split(const std::string& text, char separator)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = text.find(separator, start);
        parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return parts;
        start = at + 1;
    }
}

int parse_value(const std::string& text, int low, int high, const char* const* names, const std::string& field)
{
    if (names != nullptr) {
        for (int i = 0; names[i] != nullptr; ++i) {
            std::string lower = text;
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (lower == names[i]) return low + i;
        }
    }
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 4) {
        throw CronError("cron " + field + " field: '" + text + "' is not a number");
    }
    const int value = std::stoi(text);
    if (value < low || value > high) {
        throw CronError("cron " + field + " field: " + text + " is outside " + std::to_string(low) + "-" +
                        std::to_string(high));
    }
    return value;
}

// Sets the bits of one field; returns whether it restricts anything (is not "*").
template <std::size_t N>
bool parse_field(const std::string& text, int low, int high, const char* const* names, const std::string& field,
                 std::bitset<N>& bits)
{
    bool restricted = text != "*";
    for (const auto& item : split(text, ',')) {
        if (item.empty()) throw CronError("cron " + field + " field: empty list item");
        const auto slash = item.find('/');
        const std::string range = item.substr(0, slash);
        int step = 1;
        if (slash != std::string::npos) {
            step = parse_value(item.substr(slash + 1), 1, high, nullptr, field);
        }
        int first = low, last = high;
        if (range != "*") {
            const auto dash = range.find('-');
            first = parse_value(range.substr(0, dash), low, high, names, field);
            last = dash == std::string::npos ? (slash == std::string::npos ? first : high)
                                             : parse_value(range.substr(dash + 1), low, high, names, field);
            if (last < first) throw CronError("cron " + field + " field: range " + range + " runs backwards");
        } else if (slash != std::string::npos) {
            restricted = true;
        }
        for (int v = first; v <= last; v += step) bits.set(static_cast<std::size_t>(v));
    }
    return restricted;
}

const char* const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                   "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int weekday(int year, int month, int day)  // 0 = Sunday (Sakamoto)
{
    static const int offsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (month < 3) year -= 1;
    return (year + year / 4 - year / 100 + year / 400 + offsets[month - 1] + day) % 7;
}

// The C library's zone, switched for the duration of a conversion.
class ZoneScope {
public:
    explicit ZoneScope(const std::string& zone) : lock_(mutex())
    {
        const std::string name = zone.empty() ? "UTC" : zone;
        if (name != "UTC" && !std::filesystem::exists("/usr/share/zoneinfo/" + name)) {
            throw CronError("unknown time zone '" + zone + "' (no /usr/share/zoneinfo/" + zone + ")");
        }
        const char* old = std::getenv("TZ");
        had_old_ = old != nullptr;
        if (had_old_) old_ = old;
        ::setenv("TZ", name.c_str(), 1);
        ::tzset();
    }
    ~ZoneScope()
    {
        if (had_old_) ::setenv("TZ", old_.c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }

private:
    static std::mutex& mutex()
    {
        static std::mutex m;
        return m;
    }
    std::lock_guard<std::mutex> lock_;
    bool had_old_ = false;
    std::string old_;
};

struct Local {
    int year, month, day, hour, minute;
};

// The instant local time `l` names, by the rules in cron.h (zone already set).
std::time_t to_instant(const Local& l)
{
    const auto attempt = [&](int is_dst, std::time_t& out) {
        std::tm tm{};
        tm.tm_year = l.year - 1900;
        tm.tm_mon = l.month - 1;
        tm.tm_mday = l.day;
        tm.tm_hour = l.hour;
        tm.tm_min = l.minute;
        tm.tm_isdst = is_dst;
        out = std::mktime(&tm);
        std::tm back{};
        localtime_r(&out, &back);
        return back.tm_year == l.year - 1900 && back.tm_mon == l.month - 1 && back.tm_mday == l.day &&
               back.tm_hour == l.hour && back.tm_min == l.minute;
    };
    std::time_t summer = 0, winter = 0;
    const bool summer_ok = attempt(1, summer);
    const bool winter_ok = attempt(0, winter);
    if (summer_ok && winter_ok) return std::min(summer, winter);  // twice: the first occurrence
    if (summer_ok) return summer;
    if (winter_ok) return winter;
    // does not exist: the gap ends at the transition, which standard time puts at the hour's start
    std::tm tm{};
    tm.tm_year = l.year - 1900;
    tm.tm_mon = l.month - 1;
    tm.tm_mday = l.day;
    tm.tm_hour = l.hour;
    tm.tm_isdst = 0;
    return std::mktime(&tm);
}

}  // namespace

CronSchedule CronSchedule::parse(const std::string& expression)
{
    std::vector<std::string> fields;
    std::string current;
    for (const char c : expression) {
        if (c == ' ' || c == '\t') {
            if (!current.empty()) fields.push_back(current);
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) fields.push_back(current);
    if (fields.size() != 5) {
        throw CronError("a cron expression has five fields (minute hour day month weekday), not " +
                        std::to_string(fields.size()) + ": '" + expression + "'");
    }
    CronSchedule s;
    s.expression_ = expression;
    parse_field(fields[0], 0, 59, nullptr, "minute", s.minutes_);
    parse_field(fields[1], 0, 23, nullptr, "hour", s.hours_);
    s.days_restricted_ = parse_field(fields[2], 1, 31, nullptr, "day-of-month", s.days_);
    parse_field(fields[3], 1, 12, month_names, "month", s.months_);
    std::bitset<8> weekdays;
    s.weekdays_restricted_ = parse_field(fields[4], 0, 7, day_names, "day-of-week", weekdays);
    for (int d = 0; d < 7; ++d) s.weekdays_.set(static_cast<std::size_t>(d), weekdays[static_cast<std::size_t>(d)]);
    if (weekdays[7]) s.weekdays_.set(0);
    return s;
}

bool CronSchedule::day_matches(int year, int month, int day) const
{
    const bool dom = days_[static_cast<std::size_t>(day)];
    const bool dow = weekdays_[static_cast<std::size_t>(weekday(year, month, day))];
    if (days_restricted_ && weekdays_restricted_) return dom || dow;
    return dom && dow;
}

std::optional<TimePoint> CronSchedule::next_after(TimePoint after, const std::string& time_zone) const
{
    ZoneScope zone(time_zone);
    const std::time_t after_s = std::chrono::system_clock::to_time_t(after);
    std::tm start{};
    localtime_r(&after_s, &start);
    // begin a few hours back: around a fall-back change the next tick may be at an earlier
    // local time than `after`'s; anything at or before `after` is skipped below
    Local l{start.tm_year + 1900, start.tm_mon + 1, start.tm_mday, 0, 0};
    if (start.tm_hour >= 3) {
        l.hour = start.tm_hour - 3;
    } else if (--l.day < 1) {
        if (--l.month < 1) {
            l.month = 12;
            --l.year;
        }
        l.day = days_in_month(l.year, l.month);
        l.hour = start.tm_hour + 21;
    } else {
        l.hour = start.tm_hour + 21;
    }
    const int last_year = l.year + 8;
    while (l.year <= last_year) {
        if (!months_[static_cast<std::size_t>(l.month)]) {
            l = {l.month == 12 ? l.year + 1 : l.year, l.month == 12 ? 1 : l.month + 1, 1, 0, 0};
            continue;
        }
        if (!day_matches(l.year, l.month, l.day)) {
            if (++l.day > days_in_month(l.year, l.month)) {
                l = {l.month == 12 ? l.year + 1 : l.year, l.month == 12 ? 1 : l.month + 1, 1, 0, 0};
            } else {
                l.hour = l.minute = 0;
            }
            continue;
        }
        if (!hours_[static_cast<std::size_t>(l.hour)]) {
            l.minute = 0;
            if (++l.hour > 23) {
                l.hour = 0;
                if (++l.day > days_in_month(l.year, l.month)) {
                    l = {l.month == 12 ? l.year + 1 : l.year, l.month == 12 ? 1 : l.month + 1, 1, 0, 0};
                }
            }
            continue;
        }
        if (minutes_[static_cast<std::size_t>(l.minute)]) {
            const std::time_t instant = to_instant(l);
            if (instant > after_s) {
                return std::chrono::system_clock::from_time_t(instant);
            }
        }
        if (++l.minute > 59) {
            l.minute = 0;
            if (++l.hour > 23) {
                l.hour = 0;
                if (++l.day > days_in_month(l.year, l.month)) {
                    l = {l.month == 12 ? l.year + 1 : l.year, l.month == 12 ? 1 : l.month + 1, 1, 0, 0};
                }
            }
        }
    }
    return std::nullopt;
}

std::optional<TimePoint> CronSchedule::latest_in(TimePoint since, TimePoint until, const std::string& time_zone) const
{
    // look back over growing windows, so that a frequent schedule scans few ticks and a rare
    // one is still found (a scheduler down for longer than a year catches up on the last year)
    using std::chrono::hours;
    for (const auto window : {hours(1), hours(24), hours(24 * 32), hours(24 * 366)}) {
        auto cursor = std::max(since, until - window);
        std::optional<TimePoint> latest;
        while (const auto tick = next_after(cursor, time_zone)) {
            if (*tick > until) break;
            latest = tick;
            cursor = *tick;
        }
        if (latest || cursor <= since) {
            return latest;
        }
    }
    return std::nullopt;
}

}  // namespace vdi::pool
