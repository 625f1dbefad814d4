#pragma once

#include "daemon/config.hpp"
#include "store/token_record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {

// 9999-12-31T23:59:59Z: the latest expiry, and the largest span a request
// may name, so that time arithmetic cannot overflow.
inline constexpr std::int64_t kLatestExpiry = 253402300799;

// The admin's policy (apitokend.conf) for what a token may be, applied
// when it is made, rotated or changed. Each refusal throws
// ApiError(InvalidArgument) naming the config key, never echoing input that
// could be a secret.

// The expiry a request asks for (ipc::kExpiresDefault, ipc::kExpiresNever
// or a Unix time) for a token made at `created`, checked at `now`:
// require_expiry refuses "never", max_lifetime bounds it from `created`.
[[nodiscard]] std::optional<store::TimePoint> policy_expiry(const Config& config,
                                                            std::int64_t requested,
                                                            store::TimePoint created,
                                                            store::TimePoint now);

// A token's services: valid names, named when require_services or
// allowed_services say so, and within allowed_services. Sorted, once each.
[[nodiscard]] std::vector<std::string> policy_services(const Config& config,
                                                       std::vector<std::string> services);

// Source networks as the store keeps them (canonical CIDRs), or refused.
[[nodiscard]] std::vector<std::string> policy_sources(const std::vector<std::string>& sources);

// A description and host globs as they may be stored, or refused.
void check_description(const std::string& description);
void check_hosts(const std::vector<std::string>& hosts);

// The hosts a token may name (valid globs), and in fleet mode: with
// fleet_create_scope = this-host, none means this host, and only an admin
// (`caller_is_admin`) may name others; a token with a use limit
// (`max_uses`) names exactly one host, no wildcards, so that no two hosts
// spend the same use (each counts on its own replica).
[[nodiscard]] std::vector<std::string> policy_hosts(const Config& config,
                                                    std::vector<std::string> hosts,
                                                    std::uint64_t max_uses, bool caller_is_admin);

// A use limit as it may be stored: 0 (none) to ipc::kMaxUsesLimit.
[[nodiscard]] std::uint64_t policy_max_uses(std::uint64_t max_uses);

// InvalidArgument with `problem` (a *_problem sentence), unless it is "".
void require_valid(const std::string& problem);

// "90 days" / "45 seconds", for messages.
[[nodiscard]] std::string describe_span(std::chrono::seconds span);

} // namespace apitoken::daemon
