#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apitoken::store {

// What the store accepts as names. Each check returns an empty string when
// the value is fine, else a sentence saying what is wrong (for the caller's
// error message; it never contains the value itself, which may be hostile).

inline constexpr std::size_t kMaxTokenNameChars = 64;
inline constexpr std::size_t kMaxUserNameBytes = 256;
inline constexpr std::size_t kMaxServiceNameBytes = 64;
inline constexpr std::size_t kMaxServicesPerToken = 32;
inline constexpr std::size_t kMaxRhostBytes = 255;

// 1-64 printable characters of valid UTF-8: no control characters, and no
// leading or trailing whitespace (names are shown in aligned tables).
[[nodiscard]] std::string token_name_problem(std::string_view name);

// 1-256 bytes, no control characters, no '/' or ':' (the passwd separators).
[[nodiscard]] std::string user_name_problem(std::string_view user);

// A PAM service name as found in /etc/pam.d: 1-64 of [A-Za-z0-9._+@-],
// not starting with '.'.
[[nodiscard]] std::string service_name_problem(std::string_view service);

// A remote host as PAM_RHOST carries it: at most 255 printable ASCII bytes.
[[nodiscard]] std::string rhost_problem(std::string_view rhost);

} // namespace apitoken::store
