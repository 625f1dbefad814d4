#pragma once

#include "store/token_record.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace apitoken::store {

// The on-disk encoding of a TokenRecord (the LMDB value; the id is the key).
// A versioned, length-prefixed little-endian layout: compact, endian-stable,
// and decodable without trusting any length it reads.
inline constexpr std::uint8_t kRecordFormat = 1;

// Throws StoreError(InvalidArgument) when a field is too long to encode.
[[nodiscard]] std::string encode_record(const TokenRecord& record);

// Returns nullopt for anything that is not exactly one well-formed record of
// a known format: truncated, trailing bytes, unknown format byte.
[[nodiscard]] std::optional<TokenRecord> decode_record(const TokenId& id,
                                                       std::string_view bytes) noexcept;

} // namespace apitoken::store
