#pragma once

// The token's checksum (design.md): the last 8 characters are the CRC32
// (zlib's, IEEE) of the 48 before them, in lowercase hex. One definition for
// every part that makes or recognises tokens: the store (generate_token,
// parse_token) and apitokenctl's leak scanner, which must not link the
// store (libsodium). A library of its own (apitoken_token_checksum, with
// zlib), so that the PAM module, which links apitoken_contract, gains no
// zlib dependency.

#include "contract/token_shape.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace apitoken::store {

// Where the parts of a token start.
inline constexpr std::size_t kTokenIdOffset = kTokenPrefix.size();
inline constexpr std::size_t kTokenSecretOffset = kTokenIdOffset + kTokenIdHexLength;
inline constexpr std::size_t kTokenChecksumOffset = kTokenSecretOffset + kTokenSecretHexLength;
static_assert(kTokenChecksumOffset + kTokenChecksumHexLength == kTokenLength);

using TokenChecksumHex = std::array<char, kTokenChecksumHexLength>;

// The checksum of a token's first kTokenChecksumOffset characters (`body`
// must be that long; a shorter or longer text gets the checksum of itself).
[[nodiscard]] TokenChecksumHex token_checksum_hex(std::string_view body) noexcept;

// Whether `text` is a whole token: prefix, length, alphabet and checksum.
// The checksum is public (it is derived from the rest of the token), so a
// plain comparison leaks nothing worth a constant-time compare.
[[nodiscard]] bool is_checksummed_token(std::string_view text) noexcept;

} // namespace apitoken::store
