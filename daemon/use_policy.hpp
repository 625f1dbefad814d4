#pragma once

#include "daemon/config.hpp"
#include "store/token_record.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// What an authentication says about where it comes from.
struct UseContext {
    std::string_view service{};
    // PAM_RHOST as the caller named it; it counts only from callers who may
    // name it (root, the auth group): `rhost_trusted`.
    std::string_view rhost{};
    bool rhost_trusted = false;
    store::TimePoint now{};
    // This host's name (gethostname), for tokens limited to some hosts.
    std::string_view host_name{};
};

// Whether one of a token's host globs (fnmatch, case-insensitive) matches
// `host_name` or its first label ("web1" of "web1.example.com"). An empty
// list means every host.
[[nodiscard]] bool host_allowed(const std::vector<std::string>& hosts, std::string_view host_name);

// This host's name, or "" when it cannot be had (then only tokens for
// every host work).
[[nodiscard]] std::string this_host_name();
// The name host globs match: fleet_host_name, or else this_host_name().
[[nodiscard]] std::string fleet_host_name(const Config& config);

// Why a token whose secret matched may not be used now, naming the rule
// (the token's own settings, or apitokend.conf's key, which applies to
// existing tokens at their next use); nullopt when it may. The use limit is
// not checked here: only the store can count a use durably (consume_use).
[[nodiscard]] std::optional<std::string> use_rejection(const store::TokenRecord& record,
                                                       const Config& config, const UseContext& use);

// When the token was last used, or made if it never was: what max_idle
// and "unused for" count from.
[[nodiscard]] store::TimePoint idle_since(const store::TokenRecord& record) noexcept;

// The token expires within the config's expiry_warning (and has not yet).
[[nodiscard]] bool expiring_soon(const store::TokenRecord& record, const Config& config,
                                 store::TimePoint now) noexcept;

// Until when the token may be used under the config's max_lifetime (made
// plus max_lifetime), when that is earlier than its own expiry. For a token
// imported with an expiry, the maximum was applied from its import (it may
// have been made in Jenkins long before): its expiry is the end.
[[nodiscard]] std::optional<store::TimePoint> lifetime_end(const store::TokenRecord& record,
                                                           const Config& config) noexcept;

} // namespace apitoken::daemon
