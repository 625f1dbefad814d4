#pragma once

#include "store/secret_buffer.hpp"
#include "store/token_hash.hpp"
#include "store/token_record.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::store {

class TokenStore;

// What a caller asks for when creating a token.
struct TokenRequest {
    std::string user;
    uid_t uid = 0;
    std::string name;
    std::optional<TimePoint> expires;
    std::vector<std::string> services;
    std::string description{};
    std::vector<std::string> sources{}; // canonical CIDRs
    std::uint64_t max_uses = 0;
    std::vector<std::string> hosts{};
    uid_t created_by = 0;
    std::optional<TokenId> rotated_from{};
};

// A new token: the record to store and the token text, which the creator is
// shown once and which then only exists as the record's hash.
struct IssuedToken {
    TokenRecord record;
    SecretBuffer text;
};

// Draws a token and hashes it (the expensive part, which a daemon runs off
// its bus thread). Touches no store.
[[nodiscard]] IssuedToken prepare_token(const TokenRequest& request, const HashParams& params,
                                        TimePoint now);

// prepare_token + TokenStore::create, drawing a new id in the (2^-48 per
// existing token) case that the id is taken.
[[nodiscard]] IssuedToken issue_token(TokenStore& store, const TokenRequest& request,
                                      const HashParams& params, TimePoint now);

} // namespace apitoken::store
