#pragma once

#include "store/token_record.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::store {

// Why a token left the store.
enum class GoneReason : std::uint8_t {
    Revoked = 1, // revoked (also: rotated away, its owner's account deleted)
    Expired = 2, // purged some time after its expiry
};

// What the store remembers of a token after deleting it (the `revoked`
// table, schema 4), so that a leak scan can tell a revoked token from one
// that never existed: never the hash, only whose it was and when it went.
struct GoneToken {
    GoneReason reason = GoneReason::Revoked;
    std::string user{};
    uid_t uid = 0;
    std::string name{};
    TimePoint when{};

    bool operator==(const GoneToken&) const = default;
};

// The record's tombstone as it is deleted at `now`.
[[nodiscard]] GoneToken gone_token_of(const TokenRecord& record, TimePoint now);

// The `revoked` table's value: format byte, reason, uid (4 bytes), time (8),
// then the user and the name, each with a 2-byte length (little-endian).
[[nodiscard]] std::string encode_gone_token(const GoneToken& gone);
// nullopt for bytes that are not such a value.
[[nodiscard]] std::optional<GoneToken> decode_gone_token(std::string_view bytes);

} // namespace apitoken::store
