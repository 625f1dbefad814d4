#pragma once

#include "store/token_record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::store {

// The byte layout of the store's LMDB keys and of the small values that are
// not records (those are record_codec's):
//   tokens     id.key() (6 bytes)                → encode_record()
//   by_user    the user name, as is               → id.key() (DUPSORT)
//   by_expiry  expiry_key(expires, id)            → nothing
//   by_grace   expiry_key(grace_until, id)        → nothing
//   revoked    id.key()                           → encode_gone_token()
//   revoked_by_user  the user name               → expiry_key(deleted, id) (DUPSORT)
//   meta       "magic"                            → "apitoken-store"
//              "schema_version"                   → encode_u32(version)
//              "fleet.*" (fleet mode, replica_ops.cpp: the replica's place
//              in the change log, versions, queues)     → encode_u64(), ...
// Bytes read back become a TokenId through TokenId::from_bytes.

// 4 bytes, little-endian (the meta table's schema version).
[[nodiscard]] std::string encode_u32(std::uint32_t value);
// nullopt unless exactly 4 bytes.
[[nodiscard]] std::optional<std::uint32_t> decode_u32(std::string_view bytes) noexcept;
// The same in 8 bytes (fleet mode's sequence numbers and times).
[[nodiscard]] std::string encode_u64(std::uint64_t value);
[[nodiscard]] std::optional<std::uint64_t> decode_u64(std::string_view bytes) noexcept;

// by_expiry's key: the expiry in big-endian Unix seconds (so LMDB's byte
// order is time order; a time before 1970 counts as 1970), then the id.
inline constexpr std::size_t kExpiryKeyBytes = 8 + TokenId::kBytes;

struct ExpiryEntry {
    TimePoint expires;
    TokenId id;
};

[[nodiscard]] std::string expiry_key(TimePoint expires, const TokenId& id);
// nullopt for a key of the wrong size.
[[nodiscard]] std::optional<ExpiryEntry> parse_expiry_key(std::string_view key) noexcept;

} // namespace apitoken::store
