#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::store {

// What the store accepts as names. Each check returns an empty string when
// the value is fine, else a sentence saying what is wrong (for the caller's
// error message; it never contains the value itself, which may be hostile).

inline constexpr std::size_t kMaxTokenNameChars = 64;
inline constexpr std::size_t kMaxUserNameBytes = 256;
inline constexpr std::size_t kMaxServiceNameBytes = 64;
inline constexpr std::size_t kMaxServicesPerToken = 32;
inline constexpr std::size_t kMaxRhostBytes = 255;
// Token policy fields (design.md "Token policy"); the daemon and the docs
// quote these.
inline constexpr std::size_t kMaxDescriptionChars = 256;
inline constexpr std::size_t kMaxSourcesPerToken = 64;
inline constexpr std::size_t kMaxSourceBytes = 64; // more than any CIDR's canonical text
inline constexpr std::size_t kMaxHostsPerToken = 32;
inline constexpr std::size_t kMaxHostBytes = 253; // a DNS name's longest text form

// 1-64 characters of printable text (contract/printable_text.hpp: valid
// UTF-8, NFC, no control, format, separator, unassigned or private-use code
// point), not starting or ending with a space (names are shown in aligned
// tables). The problem names the offending code point, never the name.
[[nodiscard]] std::string token_name_problem(std::string_view name);

// 1-256 bytes, no control characters, no '/' or ':' (the passwd separators).
[[nodiscard]] std::string user_name_problem(std::string_view user);

// A PAM service name as found in /etc/pam.d: 1-64 of [A-Za-z0-9._+@-],
// not starting with '.'.
[[nodiscard]] std::string service_name_problem(std::string_view service);

// A token's list of services: at most kMaxServicesPerToken, each a
// service name as above.
[[nodiscard]] std::string services_problem(const std::vector<std::string>& services);

// A remote host as PAM_RHOST carries it: at most 255 printable ASCII bytes.
[[nodiscard]] std::string rhost_problem(std::string_view rhost);

// A token's description: 0-256 characters of printable text (the rule of
// token names, spaces anywhere).
[[nodiscard]] std::string description_problem(std::string_view description);

// A token's source networks: at most kMaxSourcesPerToken entries of 1-64
// printable ASCII bytes without spaces. Whether each is a CIDR is the
// daemon's check (it parses them); the store only bounds what it keeps.
[[nodiscard]] std::string sources_problem(const std::vector<std::string>& sources);

// A token's host-name globs: at most kMaxHostsPerToken entries of 1-253
// printable ASCII bytes without spaces.
[[nodiscard]] std::string hosts_problem(const std::vector<std::string>& hosts);

} // namespace apitoken::store
