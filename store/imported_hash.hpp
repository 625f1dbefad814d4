#pragma once

#include "store/token_hash.hpp"

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::store {

// The hash of a token imported from Jenkins before its first use here: the
// SHA-256 Jenkins kept, in our own notation so that nothing mistakes it for
// an Argon2id string. On the first successful use the daemon replaces it
// with an Argon2id hash of the same secret (token_hash.hpp).
//   "$jenkins-sha256$" + 64 lowercase hex
inline constexpr std::string_view kJenkinsSha256Prefix = "$jenkins-sha256$";

using Sha256Digest = std::array<std::uint8_t, 32>;

// Our notation from 64 lowercase hex characters (ImportTokens' jenkins_hash);
// empty when `hex` is anything else.
[[nodiscard]] std::string jenkins_hash_from_hex(std::string_view hex);
[[nodiscard]] bool is_jenkins_hash(std::string_view hash) noexcept;

// Whether an imported token's stored hash (a Jenkins SHA-256, or the
// Argon2id hash that replaced it) matches `secret`, the 32 hex characters
// Jenkins hashes (jenkins_secret() in contract/token_shape.hpp). SHA-256
// digests are compared in constant time. False for any other hash.
[[nodiscard]] bool verify_imported(const std::string& hash, std::string_view secret) noexcept;

// A Jenkins-shaped token names no id, so it is checked against all of an
// account's imported tokens. So that a guess costs one Argon2id run
// however many of them were used (and re-hashed) already, the Argon2id
// hashes that replace their SHA-256 share a salt of the account's own
// (derived from user name and uid: a salt need not be secret, only not
// shared with other accounts): one run per guess, compared against each.

// The Argon2id string (libsodium's format, verify_token() reads it) of
// `secret` with the account's imported-token salt. Throws std::bad_alloc
// when the hashing memory cannot be had.
[[nodiscard]] std::string hash_imported(std::string_view secret, std::string_view user, uid_t uid,
                                        const HashParams& params);
// Whether `hash` should be replaced with hash_imported(): the Jenkins
// SHA-256, other parameters, or another salt.
[[nodiscard]] bool imported_needs_rehash(const std::string& hash, std::string_view user, uid_t uid,
                                         const HashParams& params) noexcept;

// What checking a secret against an account's imported hashes did.
struct ImportedMatch {
    std::optional<std::size_t> index; // the first hash that matched
    std::size_t argon2_runs = 0;      // one per distinct (parameters, salt)
};
// Checks `secret` against every hash, whichever matches: SHA-256 ones each
// (constant time), Argon2id ones with one run per distinct parameters and
// salt (normally one), raw outputs compared in constant time.
// Throws std::bad_alloc when memory runs out.
[[nodiscard]] ImportedMatch match_imported(const std::vector<std::string>& hashes,
                                           std::string_view secret);

} // namespace apitoken::store
