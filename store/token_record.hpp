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

// One of the last places a token was used from: a (rhost, service) pair.
struct RecentSource {
    std::string rhost{};
    std::string service{};
    TimePoint first_used{};
    TimePoint last_used{};
    std::uint64_t count = 0;

    bool operator==(const RecentSource&) const = default;
};

// How many distinct recent sources a record keeps (the least recently used
// one goes first).
inline constexpr std::size_t kMaxRecentSources = 8;

// Where a token came from.
inline constexpr const char* kOriginApitoken = "apitoken";
inline constexpr const char* kOriginJenkins = "jenkins";

// Everything the store keeps about one token. Never the token itself: only
// its Argon2id hash (or, for a token imported from Jenkins and not used yet,
// the SHA-256 Jenkins kept).
struct TokenRecord {
    TokenId id;
    std::string user{};
    uid_t uid = 0; // the owner's uid when the token was made
    std::string name{};
    TimePoint created{};
    std::optional<TimePoint> expires{};  // none: never expires
    std::vector<std::string> services{}; // empty: any PAM service
    std::string hash{};

    std::uint64_t use_count = 0;
    std::optional<TimePoint> last_used{};
    std::string last_service{};
    std::string last_rhost{};

    // Token policy (record format 2, schema 3).
    std::string description{};          // 0-256 printable characters
    std::vector<std::string> sources{}; // CIDRs (canonical text) PAM_RHOST must be in; empty: any
    std::uint64_t max_uses = 0;         // 0: unlimited; else use_count is written before success
    std::vector<std::string> hosts{};   // fleet host-name globs; empty: every host
    // Most recently used first, at most kMaxRecentSources.
    std::vector<RecentSource> recent_sources{};
    std::string origin = kOriginApitoken;   // kOriginApitoken or kOriginJenkins
    std::string origin_id{};                // the Jenkins token's uuid, for an imported one
    std::optional<TokenId> rotated_from{};  // the token this one replaced
    std::optional<TokenId> rotated_to{};    // the token that replaced this one
    std::optional<TimePoint> grace_until{}; // rotated: this one works until then
    uid_t created_by = 0;                   // who made it (an admin for the user, or the user)
    bool expiry_warned = false;             // "expires soon" was logged

    [[nodiscard]] bool rotated() const noexcept { return rotated_to.has_value(); }
    [[nodiscard]] bool limited() const noexcept { return max_uses != 0; }

    [[nodiscard]] bool expired_at(TimePoint now) const noexcept {
        return expires.has_value() && *expires <= now;
    }

    bool operator==(const TokenRecord&) const = default;
};

// Whether `record` belongs to nobody: its owner's account is gone
// (`current_uid` nullopt: the user directory knows no such user now) or
// was deleted and made again with another uid. The one orphan check: the
// lists, the new account's first token and the hourly purge all ask it.
[[nodiscard]] inline bool orphaned(const TokenRecord& record,
                                   std::optional<uid_t> current_uid) noexcept {
    return !current_uid || record.uid != *current_uid;
}

// Fleet mode: a token's uses on every host, as the fleet database sums
// them (each host's share flushed in batches).
struct FleetUsage {
    TokenId id;
    std::uint64_t use_count = 0;
    TimePoint last_used{};
    std::string host{}; // of the last use
    std::string service{};
    std::string rhost{};

    // Another batch of the same token's uses: counts add up, the latest use
    // wins (its time, host, service and rhost). The one merge rule, for the
    // store's queue and the fleet follower's.
    void add(const FleetUsage& more) {
        use_count += more.use_count;
        if (more.last_used >= last_used) {
            last_used = more.last_used;
            host = more.host;
            service = more.service;
            rhost = more.rhost;
        }
    }
};

// One successful authentication, recorded later in a batch (or at once,
// with the count, for a token with a use limit).
struct UsageEvent {
    TokenId id;
    TimePoint when{};
    std::string service{};
    std::string rhost{};
};

} // namespace apitoken::store
