#pragma once

#include "jenkins/jenkins_records.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace apitoken::jenkins {

// The two date formats XStream writes for API tokens.

// java.util.Date (creationDate, lastUseDate), XStream's DateConverter:
// "yyyy-MM-dd HH:mm:ss.S z" in UTC with the English locale, e.g.
// "2023-05-01 10:11:12.123 UTC". SimpleDateFormat's "S" is the millisecond
// count without padding ("…:12.5 UTC" is 5 ms), so the fraction is 1 to 3
// digits; it is dropped (Unix seconds). Also read without a fraction, as
// XStream does. Years 1970-9999; nullopt for anything else.
[[nodiscard]] std::optional<UnixSeconds> parse_xstream_date(std::string_view text);

// java.time.LocalDate (expirationDate), XStream's LocalDateConverter:
// LocalDate.toString(), "yyyy-MM-dd" (years 1970-9999 here).
[[nodiscard]] std::optional<std::chrono::year_month_day> parse_local_date(std::string_view text);

// The first second after `day` in this process's local time zone (TZ): the
// instant a Jenkins token expiring on `day` stops working (Jenkins compares
// LocalDate.now(), server-local, with the expiry day). mktime follows the
// zone's daylight saving rules; a midnight that does not exist is the next
// valid instant.
[[nodiscard]] UnixSeconds end_of_local_day(std::chrono::year_month_day day);

} // namespace apitoken::jenkins
