#include "jenkins/jenkins_dates.hpp"

#include <ctime>

namespace apitoken::jenkins {

namespace {

constexpr int kFirstYear = 1970;
constexpr int kLastYear = 9999;

// Reads exactly `digits` ASCII digits at text[pos].
std::optional<int> read_number(std::string_view text, std::size_t pos, std::size_t digits) {
    if (text.size() < pos + digits) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + digits; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::optional<std::chrono::year_month_day> make_day(int year, int month, int day) {
    if (year < kFirstYear || year > kLastYear) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year{year},
                                          std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return ymd;
}

// "yyyy-MM-dd" at the start of text (no check of what follows).
std::optional<std::chrono::year_month_day> read_day(std::string_view text) {
    const auto year = read_number(text, 0, 4);
    const auto month = read_number(text, 5, 2);
    const auto day = read_number(text, 8, 2);
    if (!year || !month || !day || text.size() < 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    return make_day(*year, *month, *day);
}

// " HH:mm:ss" at text[10]: seconds since midnight.
std::optional<int> read_time_of_day(std::string_view text) {
    const auto hours = read_number(text, 11, 2);
    const auto minutes = read_number(text, 14, 2);
    const auto seconds = read_number(text, 17, 2);
    if (!hours || !minutes || !seconds || text[10] != ' ' || text[13] != ':' || text[16] != ':' ||
        *hours > 23 || *minutes > 59 || *seconds > 59) {
        return std::nullopt;
    }
    return (*hours * 60 + *minutes) * 60 + *seconds;
}

// What follows the seconds: "" or "." + 1-3 digits, then " UTC".
bool is_fraction_and_zone(std::string_view rest) {
    constexpr std::string_view kZone = " UTC";
    if (!rest.ends_with(kZone)) {
        return false;
    }
    rest.remove_suffix(kZone.size());
    if (rest.empty()) {
        return true;
    }
    if (rest.front() != '.' || rest.size() < 2 || rest.size() > 4) {
        return false;
    }
    return read_number(rest, 1, rest.size() - 1).has_value();
}

} // namespace

std::optional<UnixSeconds> parse_xstream_date(std::string_view text) {
    constexpr std::size_t kDateTimeLength = 19; // "yyyy-MM-dd HH:mm:ss"
    if (text.size() < kDateTimeLength) {
        return std::nullopt;
    }
    const auto day = read_day(text);
    const auto time_of_day = read_time_of_day(text);
    if (!day || !time_of_day || !is_fraction_and_zone(text.substr(kDateTimeLength))) {
        return std::nullopt;
    }
    const std::chrono::sys_days midnight{*day};
    return midnight.time_since_epoch() / std::chrono::seconds{1} + *time_of_day;
}

std::optional<std::chrono::year_month_day> parse_local_date(std::string_view text) {
    if (text.size() != 10) {
        return std::nullopt;
    }
    return read_day(text);
}

UnixSeconds end_of_local_day(std::chrono::year_month_day day) {
    const std::chrono::year_month_day next{std::chrono::sys_days{day} + std::chrono::days{1}};
    std::tm local{};
    local.tm_year = static_cast<int>(next.year()) - 1900;
    local.tm_mon = static_cast<int>(static_cast<unsigned>(next.month())) - 1;
    local.tm_mday = static_cast<int>(static_cast<unsigned>(next.day()));
    local.tm_isdst = -1; // let the zone's rules decide
    return static_cast<UnixSeconds>(std::mktime(&local));
}

} // namespace apitoken::jenkins
