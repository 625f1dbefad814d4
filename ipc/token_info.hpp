#pragma once

#include "ipc/dictionary.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace apitoken::ipc {

// One token's metadata as ListTokens carries it (signature::kTokenInfo).
// Never a hash, never a secret. Times are Unix seconds; 0 means "none".
struct TokenInfo {
    std::string id{};
    std::string name{};
    std::int64_t created = 0;
    std::int64_t expires = 0;   // 0: never
    std::int64_t last_used = 0; // 0: never
    std::uint64_t use_count = 0;
    std::string last_service{};
    std::string last_rhost{};
    std::string last_host{};             // fleet mode: where it was last used ("" otherwise)
    std::vector<std::string> services{}; // empty: any
    // ListTokensEx only (ListTokens does not carry them).
    std::string user{};
    std::uint32_t uid = 0; // the owner's uid when the token was made
    // The owner's account has another uid now (deleted and made again) or
    // is gone: the token belongs to nobody and authenticates no one. Only
    // root and admins are shown such tokens.
    bool orphaned = false;
    std::string description{};
    std::vector<std::string> sources{}; // CIDRs; empty: any
    std::uint64_t max_uses = 0;         // 0: unlimited
    std::vector<std::string> hosts{};   // fleet host globs; empty: every host
    struct RecentSource {
        std::string rhost{};
        std::string service{};
        std::int64_t first_used = 0;
        std::int64_t last_used = 0;
        std::uint64_t count = 0;
        bool operator==(const RecentSource&) const = default;
    };
    std::vector<RecentSource> recent_sources{}; // most recent first
    std::string origin{};                       // "apitoken" or "jenkins"
    std::string origin_id{};                    // the Jenkins uuid of an imported token
    std::string rotated_from{};                 // "" = none
    std::string rotated_to{};                   // "" = not rotated
    std::int64_t grace_until = 0;               // rotated: works until then
    std::uint32_t created_by = 0;               // the uid that made it
    bool expiring_soon = false;                 // within the daemon's expiry_warning

    bool operator==(const TokenInfo&) const = default;
};

// The a{sv} form of ListTokensEx (keys: bus_api.hpp, namespace key). Keys
// this build does not know are ignored; missing ones keep their defaults.
[[nodiscard]] Dictionary dictionary_of(const TokenInfo& info);
[[nodiscard]] TokenInfo token_info_of(const Dictionary& dictionary);

} // namespace apitoken::ipc
