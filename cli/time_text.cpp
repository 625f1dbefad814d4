#include "cli/time_text.hpp"

#include "contract/duration.hpp"
#include "ipc/bus_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

namespace apitoken::cli {
namespace {

using namespace std::chrono;

std::string plural(std::int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// The coarsest unit that still says something: minutes, hours, days, months,
// years.
std::string span_text(std::int64_t seconds) {
    constexpr std::int64_t kMinute = 60;
    constexpr std::int64_t kHour = 60 * kMinute;
    constexpr std::int64_t kDay = 24 * kHour;
    if (seconds < kHour) {
        return plural(std::max<std::int64_t>(1, seconds / kMinute), "minute");
    }
    if (seconds < 2 * kDay) {
        return plural(seconds / kHour, "hour");
    }
    if (seconds < 60 * kDay) {
        return plural(seconds / kDay, "day");
    }
    if (seconds < 730 * kDay) {
        return plural(seconds / (30 * kDay), "month");
    }
    return plural(seconds / (365 * kDay), "year");
}

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> number(std::string_view text, std::size_t pos, std::size_t digits) {
    if (pos + digits > text.size()) {
        return std::nullopt;
    }
    // from_chars alone would take a sign ("-1" as an hour).
    const std::string_view field = text.substr(pos, digits);
    if (!std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int value = 0;
    const char* begin = text.data() + pos;
    const auto [end, ec] = std::from_chars(begin, begin + digits, value);
    if (ec != std::errc() || end != begin + digits) {
        return std::nullopt;
    }
    return value;
}

std::optional<year_month_day> date_at(std::string_view text) {
    const auto y = number(text, 0, 4);
    const auto m = number(text, 5, 2);
    const auto d = number(text, 8, 2);
    if (!y || !m || !d || text.size() < 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*m)},
                              day{static_cast<unsigned>(*d)}};
    return date.ok() ? std::optional(date) : std::nullopt;
}

// 00:00 local time on a YYYY-MM-DD date.
std::optional<std::int64_t> local_midnight(const year_month_day& date) {
    std::tm tm{};
    tm.tm_year = static_cast<int>(date.year()) - 1900;
    tm.tm_mon = static_cast<int>(static_cast<unsigned>(date.month())) - 1;
    tm.tm_mday = static_cast<int>(static_cast<unsigned>(date.day()));
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    return t == static_cast<std::time_t>(-1) ? std::nullopt : std::optional<std::int64_t>(t);
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), 'T' or 't' or ' '.
std::optional<std::int64_t> rfc3339_time(std::string_view text) {
    const auto date = date_at(text);
    if (!date || text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) {
        return std::nullopt;
    }
    const auto h = number(text, 11, 2);
    const auto m = number(text, 14, 2);
    const auto s = number(text, 17, 2);
    if (!h || !m || !s || text[13] != ':' || text[16] != ':' || *h > 23 || *m > 59 || *s > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
        const std::size_t first_digit = ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            ++pos;
        }
        if (pos == first_digit) { // RFC 3339 wants a digit after the dot
            return std::nullopt;
        }
    }
    std::int64_t offset = 0;
    const std::string_view zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
        offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        const auto oh = number(zone, 1, 2);
        const auto om = number(zone, 4, 2);
        if (!oh || !om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset = (zone[0] == '+' ? 1 : -1) * (std::int64_t{*oh} * 3600 + std::int64_t{*om} * 60);
    } else {
        return std::nullopt;
    }
    const auto days_since_epoch = sys_days{*date}.time_since_epoch().count();
    return std::int64_t{days_since_epoch} * 86400 + std::int64_t{*h} * 3600 +
           std::int64_t{*m} * 60 + *s - offset;
}

} // namespace

std::string rfc3339(std::int64_t unix_seconds) {
    const sys_seconds t{seconds{unix_seconds}};
    const auto day_point = floor<days>(t);
    const year_month_day date{day_point};
    const hh_mm_ss time{t - day_point};
    char buffer[64];
    static_cast<void>(std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
        static_cast<long>(time.seconds().count())));
    return buffer;
}

std::string relative_time(std::int64_t when, std::int64_t now) {
    const std::int64_t delta = when - now;
    if (delta > -60 && delta < 60) {
        return "just now";
    }
    return delta < 0 ? span_text(-delta) + " ago" : "in " + span_text(delta);
}

std::string exact_span_text(std::int64_t seconds) {
    constexpr std::array<std::pair<std::int64_t, const char*>, 3> kUnits{
        {{86400, "day"}, {3600, "hour"}, {60, "minute"}}};
    for (const auto& [length, unit] : kUnits) {
        if (seconds >= length && seconds % length == 0) {
            return plural(seconds / length, unit);
        }
    }
    return plural(seconds, "second");
}

std::string expiry_text(std::int64_t expires, std::int64_t now) {
    if (expires == 0) {
        return "never";
    }
    return expires <= now ? "expired" : relative_time(expires, now);
}

std::string local_time_text(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    if (::localtime_r(&t, &local) == nullptr) {
        return rfc3339(unix_seconds);
    }
    char buffer[64];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &local);
    return n == 0 ? rfc3339(unix_seconds) : std::string(buffer, n);
}

std::optional<std::int64_t> parse_span(std::string_view text, std::string_view option,
                                       bool allow_zero, std::string& error) {
    if (allow_zero && text == "0") {
        return 0;
    }
    if (const auto duration = daemon::parse_duration(text)) {
        return duration->count();
    }
    error = std::string(option) + ": \"" + std::string(text.substr(0, 64)) +
            "\" is not a duration: a whole number and one unit, s, m, h, d or w (90d, 12h, 2w)" +
            (allow_zero ? ", or 0" : "");
    return std::nullopt;
}

std::optional<std::int64_t> parse_expiry(std::string_view text, std::int64_t now,
                                         std::string& error) {
    std::optional<std::int64_t> when;
    if (text == "never") {
        return ipc::kExpiresNever;
    }
    if (const auto duration = daemon::parse_duration(text)) {
        when = now + duration->count();
    } else if (text.size() == 10) {
        const auto date = date_at(text);
        when = date ? local_midnight(*date) : std::nullopt;
    } else {
        when = rfc3339_time(text);
    }
    if (!when) {
        error = "--expires: \"" + std::string(text.substr(0, 64)) +
                "\" is not a duration (90d, 12h, 2w), a date (2027-01-31), an RFC 3339 time "
                "(2027-01-31T12:00:00Z) or \"never\"";
        return std::nullopt;
    }
    if (*when <= now) {
        error = "--expires: " + rfc3339(*when) + " is in the past";
        return std::nullopt;
    }
    return when;
}

} // namespace apitoken::cli
