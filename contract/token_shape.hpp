#pragma once

// The token format's shape, header-only and free of dependencies, so that
// the PAM module (which links only libpam and libsystemd) can tell a token
// from a password without the store library:
//   "atk_" + 12 hex (id) + 32 hex (secret) + 8 hex (CRC32), lowercase.
// Contract (design.md), shared by every part; the names keep the namespace
// the store, the daemon and the PAM module already call them by.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace apitoken::store {

inline constexpr std::string_view kTokenPrefix = "atk_";
inline constexpr std::size_t kTokenIdHexLength = 12;
inline constexpr std::size_t kTokenSecretHexLength = 32;
inline constexpr std::size_t kTokenChecksumHexLength = 8;
inline constexpr std::size_t kTokenLength =
    kTokenPrefix.size() + kTokenIdHexLength + kTokenSecretHexLength + kTokenChecksumHexLength;
static_assert(kTokenLength == 56);

[[nodiscard]] constexpr bool is_lower_hex(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Prefix, length and alphabet; the checksum needs parse_token().
[[nodiscard]] constexpr bool has_token_shape(std::string_view text) noexcept {
    return text.size() == kTokenLength && text.starts_with(kTokenPrefix) &&
           is_lower_hex(text.substr(kTokenPrefix.size()));
}

// Imported Jenkins API tokens (design.md: the PAM module's jenkins_tokens
// option): a current one is "11" + 32 lowercase hex, a legacy one 32
// lowercase hex. Jenkins hashes the 32 hex characters (jenkins_secret()).
inline constexpr std::string_view kJenkinsTokenPrefix = "11";
inline constexpr std::size_t kJenkinsSecretHexLength = 32;

[[nodiscard]] constexpr bool has_jenkins_token_shape(std::string_view text) noexcept {
    if (text.size() == kJenkinsTokenPrefix.size() + kJenkinsSecretHexLength) {
        return text.starts_with(kJenkinsTokenPrefix) &&
               is_lower_hex(text.substr(kJenkinsTokenPrefix.size()));
    }
    return text.size() == kJenkinsSecretHexLength && is_lower_hex(text);
}

// The part of a Jenkins-shaped token that Jenkins hashes: the 32 hex
// characters after "11", or the whole legacy token. Empty for any other
// input.
[[nodiscard]] constexpr std::string_view jenkins_secret(std::string_view text) noexcept {
    if (!has_jenkins_token_shape(text)) {
        return {};
    }
    return text.substr(text.size() - kJenkinsSecretHexLength);
}

} // namespace apitoken::store
