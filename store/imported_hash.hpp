#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace apitoken::store {

// The hash of a token imported from Jenkins before its first use here: the
// SHA-256 Jenkins kept, in our own notation so that nothing mistakes it for
// an Argon2id string. On the first successful use the daemon replaces it
// with an Argon2id hash of the same secret (token_hash.hpp).
//   "$jenkins-sha256$" + 64 lowercase hex
inline constexpr std::string_view kJenkinsSha256Prefix = "$jenkins-sha256$";

using Sha256Digest = std::array<std::uint8_t, 32>;

[[nodiscard]] std::string jenkins_hash_text(const Sha256Digest& digest);
// Our notation from 64 lowercase hex characters (ImportTokens' jenkins_hash);
// empty when `hex` is anything else.
[[nodiscard]] std::string jenkins_hash_from_hex(std::string_view hex);
[[nodiscard]] bool is_jenkins_hash(std::string_view hash) noexcept;

// Whether an imported token's stored hash (a Jenkins SHA-256, or the
// Argon2id hash that replaced it) matches `secret`, the 32 hex characters
// Jenkins hashes (jenkins_secret() in contract/token_shape.hpp). SHA-256
// digests are compared in constant time. False for any other hash.
[[nodiscard]] bool verify_imported(const std::string& hash, std::string_view secret) noexcept;

} // namespace apitoken::store
