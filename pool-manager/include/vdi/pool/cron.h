// Five-field cron schedules ("minute hour day-of-month month day-of-week", standard meaning),
// evaluated in an IANA time zone.
//
// Fields take *, N, N-M, */S, N-M/S and comma lists; months and weekdays also take names
// (jan-dec, sun-sat) and weekday 7 is Sunday. As in Vixie cron, when both day fields are
// restricted a day matching either one matches.
//
// Daylight-saving changes: a local time that does not exist (clocks spring forward over it)
// fires at the moment the gap ends, once; a local time that happens twice (clocks fall back)
// fires on its first occurrence only.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>

#include "vdi/common/error.h"

namespace vdi::pool {

class CronError : public Error {
public:
    using Error::Error;
};

using TimePoint = std::chrono::system_clock::time_point;

class CronSchedule {
public:
    // CronError naming the field and what is wrong with it.
    static CronSchedule parse(const std::string& expression);

    // The first tick strictly after `after`, in `time_zone` ("" or "UTC": UTC). nullopt when
    // there is none within eight years (e.g. "0 0 30 2 *"). CronError for an unknown zone.
    std::optional<TimePoint> next_after(TimePoint after, const std::string& time_zone) const;

    // The latest tick in (since, until], or nullopt: a scheduler that was down over several
    // ticks runs the job once for the latest, not once per missed tick.
    std::optional<TimePoint> latest_in(TimePoint since, TimePoint until, const std::string& time_zone) const;

    const std::string& expression() const { return expression_; }

private:
    std::string expression_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;     // 1-31
    std::bitset<13> months_;   // 1-12
    std::bitset<7> weekdays_;  // 0 = Sunday
    bool days_restricted_ = false;
    bool weekdays_restricted_ = false;

    bool day_matches(int year, int month, int day) const;
};

}  // namespace vdi::pool
