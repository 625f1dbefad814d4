#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// Durations as admins and users write them: a positive whole number and one
// unit, s (seconds), m (minutes), h (hours), d (days) or w (weeks), e.g.
// "90s", "15m", "12h", "30d", "2w". Shared by the config file and the CLI's
// --expires, so it knows nothing about either (no "never" here). Contract
// (design.md); the names keep the namespace their callers already use.

// Nothing longer is accepted: a bound keeps every later time computation
// (now + duration) far from overflow, and a token "valid for 300 years" is a
// typo, not a policy. 100 years of 365.25 days.
inline constexpr std::chrono::seconds kMaxDuration{std::chrono::days{36525}};

// The duration, or nullopt for anything else: no unit, an unknown or
// upper-case unit, zero, a sign, a fraction ("1.5h"), spaces anywhere,
// several parts ("1h30m"), or more than kMaxDuration.
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// The largest unit that divides the duration exactly: 30 days gives "30d",
// 14 days "2w", 90 seconds "90s", zero "0s". parse_duration reads it back.
[[nodiscard]] std::string format_duration(std::chrono::seconds duration);

} // namespace apitoken::daemon
