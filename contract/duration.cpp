#include "contract/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <system_error>

namespace apitoken::daemon {
namespace {

struct Unit {
    char suffix;
    std::int64_t seconds;
};

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kWeek = 7 * kDay;

// Largest first, which is the order format_duration tries them in.
constexpr std::array<Unit, 5> kUnits{{
    {'w', kWeek},
    {'d', kDay},
    {'h', kHour},
    {'m', kMinute},
    {'s', 1},
}};

std::optional<std::int64_t> seconds_per(char suffix) {
    for (const Unit& unit : kUnits) {
        if (unit.suffix == suffix) {
            return unit.seconds;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.size() < 2) {
        return std::nullopt;
    }
    const auto unit = seconds_per(text.back());
    const std::string_view digits = text.substr(0, text.size() - 1);
    // from_chars takes no sign for unsigned types and stops at the first
    // non-digit, so "+5m", "-5m", " 5m" and "1.5h" all fail one check below.
    std::uint64_t count = 0;
    const char* const end = digits.data() + digits.size();
    const auto [stop, error] = std::from_chars(digits.data(), end, count);
    if (!unit || error != std::errc{} || stop != end || count == 0) {
        return std::nullopt;
    }
    // Compared before multiplying, so no count can overflow.
    const auto limit = static_cast<std::uint64_t>(kMaxDuration.count() / *unit);
    if (count > limit) {
        return std::nullopt;
    }
    return std::chrono::seconds{static_cast<std::int64_t>(count) * *unit};
}

std::string format_duration(std::chrono::seconds duration) {
    const std::int64_t total = duration.count();
    if (total == 0) {
        return "0s";
    }
    for (const Unit& unit : kUnits) {
        if (total % unit.seconds == 0) {
            return std::to_string(total / unit.seconds) + unit.suffix;
        }
    }
    return std::to_string(total) + "s"; // unreachable: every count divides by 1
}

} // namespace apitoken::daemon
