#pragma once

#include "contract/token_shape.hpp"
#include "store/secret_buffer.hpp"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::store {

// The token format of design.md (constants in contract/token_shape.hpp):
//   "atk_" + 12 hex (id, 48 random bits) + 32 hex (secret, 128 random bits)
//          + 8 hex (CRC32 of everything before it), all lowercase, 56 chars.

// The public part of a token: shown by list, logged, used to revoke, and the
// store's primary key (its 6 bytes, big-endian, so keys sort like the hex).
class TokenId {
public:
    static constexpr std::size_t kBytes = kTokenIdHexLength / 2;
    using Bytes = std::array<std::uint8_t, kBytes>;

    TokenId() = default;
    explicit TokenId(const Bytes& bytes) : bytes_(bytes) {}

    // Accepts exactly 12 lowercase hex digits; nothing else.
    [[nodiscard]] static std::optional<TokenId> from_hex(std::string_view hex) noexcept;
    // The inverse of key(): exactly kBytes bytes as read from the store (a
    // key, an index value), or nullopt for any other size.
    [[nodiscard]] static std::optional<TokenId> from_bytes(std::string_view bytes) noexcept;
    [[nodiscard]] static TokenId random();

    [[nodiscard]] std::string hex() const;
    [[nodiscard]] const Bytes& bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::string_view key() const noexcept;

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
    auto operator<=>(const TokenId&) const = default;

private:
    Bytes bytes_{};
};

// A freshly generated token: its id and its full text, which lives only in
// wiped, locked memory.
struct GeneratedToken {
    TokenId id;
    SecretBuffer text;
};

// Generates a token from libsodium's CSPRNG.
[[nodiscard]] GeneratedToken generate_token();

// Generates a token whose id is fixed (used to retry after an id collision
// without drawing the secret's entropy from anywhere but libsodium).
[[nodiscard]] GeneratedToken generate_token(const TokenId& id);

// Checks prefix, length, alphabet and checksum, without touching any store.
// Returns the token id when the text is a well-formed token.
[[nodiscard]] std::optional<TokenId> parse_token(std::string_view text) noexcept;

} // namespace apitoken::store
