#pragma once

#include "store/token_record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::store {

// The on-disk encoding of a TokenRecord (the LMDB value; the id is the key).
// A versioned, length-prefixed little-endian layout: compact, endian-stable,
// and decodable without trusting any length it reads.
// Format 1: the fields up to last_rhost and services. Format 2 (schema 3):
// format 1's fields in format 1's layout, then the token policy fields.
// Records are written in kRecordFormat only; format 1 still decodes (its
// policy fields get their defaults), as a store is migrated on open.
inline constexpr std::uint8_t kRecordFormat = 2;
inline constexpr std::uint8_t kOldestRecordFormat = 1;

// Throws StoreError(InvalidArgument) when a field or a list is too long to
// encode.
[[nodiscard]] std::string encode_record(const TokenRecord& record);

// Returns nullopt for anything that is not exactly one well-formed record of
// a known format: truncated, trailing bytes, unknown format byte.
[[nodiscard]] std::optional<TokenRecord> decode_record(const TokenId& id,
                                                       std::string_view bytes) noexcept;

} // namespace apitoken::store
