#pragma once

#include "store/token_format.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::store {

using TimePoint = std::chrono::sys_seconds;

// Everything the store keeps about one token. Never the token itself: only
// its Argon2id hash.
struct TokenRecord {
    TokenId id;
    std::string user;
    uid_t uid = 0; // the owner's uid when the token was made
    std::string name;
    TimePoint created{};
    std::optional<TimePoint> expires;  // none: never expires
    std::vector<std::string> services; // empty: any PAM service
    std::string hash;

    std::uint64_t use_count = 0;
    std::optional<TimePoint> last_used;
    std::string last_service;
    std::string last_rhost;

    [[nodiscard]] bool expired_at(TimePoint now) const noexcept {
        return expires.has_value() && *expires <= now;
    }

    bool operator==(const TokenRecord&) const = default;
};

// One successful authentication, recorded later in a batch.
struct UsageEvent {
    TokenId id;
    TimePoint when{};
    std::string service;
    std::string rhost;
};

} // namespace apitoken::store
