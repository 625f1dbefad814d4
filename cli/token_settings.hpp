#pragma once

// What the options of create, update, rotate, list and revoke become on the
// bus: the a{sv} of CreateTokenEx, UpdateToken, RotateToken, ListTokensEx
// and RevokeTokens (keys: ipc/bus_api.hpp, namespace key).

#include "ipc/dictionary.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::cli {

// What create and update set on a token. Members left unset are left out
// of the dictionary: create gets the daemon's defaults, update leaves them
// as they are.
struct TokenSettings {
    std::optional<std::string> name{}; // update (create takes NAME apart)
    std::optional<std::string> description{};
    std::optional<std::vector<std::string>> services{}; // empty: any service
    std::optional<std::vector<std::string>> sources{};  // CIDRs; empty: any source
    std::optional<std::vector<std::string>> hosts{};    // host globs; empty: every host
    std::optional<std::int64_t> expires{};              // as parse_expiry gives it
    std::optional<std::uint64_t> max_uses{};            // create (N >= 1)
};

// The a{sv} of CreateTokenEx and UpdateToken. --expires=never
// (ipc::kExpiresNever) is 0 there.
[[nodiscard]] ipc::Dictionary settings_dictionary(const TokenSettings& settings);

// Whether the old CreateToken can carry these settings (an older daemon
// without CreateTokenEx): nothing but services and expiry.
[[nodiscard]] bool fits_create_token(const TokenSettings& settings);

// --max-uses: a whole number from 1 (a one-time token) up.
[[nodiscard]] std::optional<std::uint64_t> parse_max_uses(std::string_view text,
                                                          std::string& error);

// RotateToken: grace (seconds the old token keeps working), expires.
[[nodiscard]] ipc::Dictionary rotate_dictionary(std::int64_t grace,
                                                std::optional<std::int64_t> expires);

// list --all-users --expiring=D --unused=D: the ListTokensEx filter.
struct ListFilter {
    bool all_users = false;
    std::optional<std::int64_t> expiring_within{}; // seconds
    std::optional<std::int64_t> unused_for{};      // seconds
};
[[nodiscard]] ipc::Dictionary list_filter_dictionary(const ListFilter& filter);

// revoke --unused=D | --expired [--all-users] [--dry-run]: the RevokeTokens
// filter.
struct RevokeFilter {
    std::optional<std::int64_t> unused_for{}; // seconds
    bool expired = false;
    bool all_users = false;
    bool dry_run = false;
};
[[nodiscard]] ipc::Dictionary revoke_filter_dictionary(const RevokeFilter& filter);

} // namespace apitoken::cli
