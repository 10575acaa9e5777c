// Cron expressions: parsing, next ticks, the day-of-month/day-of-week rule, missed windows and
// daylight-saving changes (Europe/Berlin).
#include <catch2/catch.hpp>

#include "vdi/common/db/database.h"
#include "vdi/pool/cron.h"

using vdi::pool::CronError;
using vdi::pool::CronSchedule;
using vdi::pool::TimePoint;

namespace {

TimePoint utc(const std::string& text)  // "2027-03-28 01:00"
{
    return vdi::db::parse_timestamp(text + ":00+00");
}

std::string show(std::optional<TimePoint> t)
{
    return t ? vdi::db::to_sql(*t).substr(0, 16) : "none";
}

}  // namespace

TEST_CASE("cron: parsing and refusals", "[cron]")
{
    CHECK_NOTHROW(CronSchedule::parse("*/15 9-17 * * mon-fri"));
    CHECK_NOTHROW(CronSchedule::parse("0 3 1,15 jan-jun,DEC 0,7"));
    CHECK_THROWS_WITH(CronSchedule::parse("0 3 * *"), Catch::Contains("five fields"));
    CHECK_THROWS_WITH(CronSchedule::parse("60 3 * * *"), Catch::Contains("minute field: 60 is outside 0-59"));
    CHECK_THROWS_WITH(CronSchedule::parse("0 3 * * funday"), Catch::Contains("day-of-week field"));
    CHECK_THROWS_WITH(CronSchedule::parse("0 5-3 * * *"), Catch::Contains("runs backwards"));
    CHECK_THROWS_WITH(CronSchedule::parse("0 3 ,1 * *"), Catch::Contains("empty list item"));
    CHECK_THROWS_AS(CronSchedule::parse("0 3 * * *").next_after(utc("2027-01-01 00:00"), "Mars/Olympus"), CronError);
}

TEST_CASE("cron: next ticks in UTC, steps, ranges, names", "[cron]")
{
    const auto daily = CronSchedule::parse("0 3 * * *");
    CHECK(show(daily.next_after(utc("2027-01-01 02:59"), "UTC")) == "2027-01-01 03:00");
    CHECK(show(daily.next_after(utc("2027-01-01 03:00"), "UTC")) == "2027-01-02 03:00");  // strictly after
    const auto office = CronSchedule::parse("*/15 9-17 * * mon-fri");
    CHECK(show(office.next_after(utc("2027-01-01 17:50"), "UTC")) == "2027-01-04 09:00");  // Fri -> Mon
    CHECK(show(office.next_after(utc("2027-01-04 09:01"), "UTC")) == "2027-01-04 09:15");
    // both day fields restricted: either matches (the 13th, or any Friday)
    const auto either = CronSchedule::parse("0 0 13 * fri");
    CHECK(show(either.next_after(utc("2027-01-02 00:00"), "UTC")) == "2027-01-08 00:00");  // a Friday
    CHECK(show(either.next_after(utc("2027-01-08 00:00"), "UTC")) == "2027-01-13 00:00");  // the 13th (Wed)
    CHECK(show(CronSchedule::parse("0 0 29 2 *").next_after(utc("2027-03-01 00:00"), "UTC")) == "2028-02-29 00:00");
    CHECK(show(CronSchedule::parse("0 0 30 2 *").next_after(utc("2027-01-01 00:00"), "UTC")) == "none");
    CHECK(show(CronSchedule::parse("0 0 * * 7").next_after(utc("2027-01-01 00:00"), "UTC")) == "2027-01-03 00:00");
}

TEST_CASE("cron: daylight saving in Europe/Berlin", "[cron]")
{
    const auto nightly = CronSchedule::parse("30 2 * * *");
    // 2027-03-28: clocks jump from 02:00 CET to 03:00 CEST, so 02:30 does not exist: it fires
    // once, when the gap ends (01:00 UTC)
    CHECK(show(nightly.next_after(utc("2027-03-27 00:00"), "Europe/Berlin")) == "2027-03-27 01:30");  // 02:30 CET
    CHECK(show(nightly.next_after(utc("2027-03-27 01:30"), "Europe/Berlin")) == "2027-03-28 01:00");
    CHECK(show(nightly.next_after(utc("2027-03-28 01:00"), "Europe/Berlin")) == "2027-03-29 00:30");  // 02:30 CEST
    // 2027-10-31: clocks fall back from 03:00 CEST to 02:00 CET, so 02:30 happens twice: once
    CHECK(show(nightly.next_after(utc("2027-10-30 12:00"), "Europe/Berlin")) == "2027-10-31 00:30");
    CHECK(show(nightly.next_after(utc("2027-10-31 00:30"), "Europe/Berlin")) == "2027-11-01 01:30");
    // an hourly schedule: local 02:00 came first at 00:00 UTC (CEST); its repetition at 01:00 UTC
    // (CET) does not fire again, the next tick is 03:00 CET
    const auto hourly = CronSchedule::parse("0 * * * *");
    CHECK(show(hourly.next_after(utc("2027-10-30 23:30"), "Europe/Berlin")) == "2027-10-31 00:00");
    CHECK(show(hourly.next_after(utc("2027-10-31 00:00"), "Europe/Berlin")) == "2027-10-31 02:00");
}

TEST_CASE("cron: a missed window yields the latest tick only", "[cron]")
{
    const auto daily = CronSchedule::parse("0 3 * * *");
    // down from Monday 02:00 to Thursday 05:00: Monday, Tuesday, Wednesday and Thursday 03:00
    // were missed; one run, for Thursday's tick
    CHECK(show(daily.latest_in(utc("2027-01-04 02:00"), utc("2027-01-07 05:00"), "UTC")) == "2027-01-07 03:00");
    CHECK(show(daily.latest_in(utc("2027-01-07 03:00"), utc("2027-01-07 05:00"), "UTC")) == "none");  // done already
    const auto minutely = CronSchedule::parse("* * * * *");
    CHECK(show(minutely.latest_in(utc("2026-01-01 00:00"), utc("2027-01-07 05:00"), "UTC")) == "2027-01-07 05:00");
    CHECK(show(CronSchedule::parse("0 0 1 1 *").latest_in(utc("2026-06-01 00:00"), utc("2027-01-07 05:00"), "UTC")) ==
          "2027-01-01 00:00");
}
