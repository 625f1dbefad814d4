#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::cli {

// Times as apitokenctl shows and reads them. All are Unix seconds; 0 in the
// daemon's replies means "none" (never expires, never used).

// "2027-01-31T12:00:00Z" (UTC).
[[nodiscard]] std::string rfc3339(std::int64_t unix_seconds);

// "just now", "5 minutes ago", "3 days ago", "in 29 days", "in 2 years".
[[nodiscard]] std::string relative_time(std::int64_t when, std::int64_t now);

// A configured length of time, exactly: "90 days", "12 hours", "1 day",
// "90 minutes", "45 seconds" (the largest unit that divides it).
[[nodiscard]] std::string exact_span_text(std::int64_t seconds);

// The EXPIRES column: "never", "expired", or "in 29 days".
[[nodiscard]] std::string expiry_text(std::int64_t expires, std::int64_t now);

// A moment for people, in local time to the minute: "2027-01-31 14:05".
[[nodiscard]] std::string local_time_text(std::int64_t unix_seconds);

// A length of time given to an option (--grace, --unused, --expiring): the
// duration syntax of --expires (90d, 12h, 2w, 30m, 45s), in seconds. With
// `allow_zero`, "0" too (--grace=0: no grace period). Sets `error` (naming
// `option`) and returns nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_span(std::string_view text, std::string_view option,
                                                     bool allow_zero, std::string& error);

// What --expires accepts, as the value CreateToken takes (Unix seconds, or
// ipc::kExpiresNever):
//   a duration   90d, 12h, 2w, 30m  (from now)
//   a date       2027-01-31         (00:00 local time on that day)
//   a time       2027-01-31T12:00:00Z, 2027-01-31T12:00:00+02:00 (RFC 3339)
//   never
// Sets `error` and returns nullopt for anything else, or for a time that is
// not in the future.
[[nodiscard]] std::optional<std::int64_t> parse_expiry(std::string_view text, std::int64_t now,
                                                       std::string& error);

} // namespace apitoken::cli
