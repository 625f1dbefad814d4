#pragma once

#include "ipc/bus_api.hpp"

#include "store/token_hash.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::daemon {

// Where apitokend reads its configuration unless --config says otherwise.
inline constexpr std::string_view kDefaultConfigPath = "/etc/apitoken/apitokend.conf";

// The file is small by nature; anything bigger is a mistake or an attack, and
// refusing it early bounds the memory and time a bad file can cost.
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20U;
inline constexpr std::size_t kMaxConfigLineBytes = 4096;

// The daemon's policy and tuning, one member per key of apitokend.conf
// (systemd/apitokend.conf documents each key for admins). Default-constructed,
// it holds the defaults a missing or empty file gives.
struct Config {
    // argon2_time_cost, argon2_memory_kib (KiB in the file, bytes here).
    store::HashParams hash = store::HashParams::defaults();
    // Argon2 worker threads; 0 = one per CPU.
    unsigned workers = 0;
    // Hashing jobs that may wait for a worker before callers get Busy.
    std::size_t queue_size = 256;
    // Failed attempts one source (caller, rhost, user) may make within
    // throttle_window before it gets TooManyAttempts.
    unsigned throttle_max_failures = 5;
    std::chrono::seconds throttle_window{60};
    // Lifetime of a token created without --expires; nullopt = never expires.
    // When max_lifetime is set, parse_config guarantees this is set too and
    // not longer (left out of the file, it becomes max_lifetime).
    std::optional<std::chrono::seconds> default_lifetime;
    // Upper bound for any token's lifetime; nullopt = no bound.
    std::optional<std::chrono::seconds> max_lifetime;
    std::size_t max_tokens_per_user = 100;
    // Members may call Authenticate for any user (services such as www-data).
    std::string auth_group = "apitoken-auth";
    // Members may manage anyone's tokens.
    std::string admin_group = "apitoken-admin";
    // How often queued usage statistics are written to the store.
    std::chrono::seconds usage_flush_interval{5};
    // Expired tokens are deleted this long after they expired.
    std::chrono::seconds expired_retention{std::chrono::days{30}};
    // Largest size the LMDB store may grow to.
    std::size_t max_store_size = std::size_t{4} << 30U;
    bool debug = false;

    // Token policy (design.md "Token policy"). It applies at creation,
    // rotation and update, and to existing tokens at their next use.

    // Every token must expire: an explicit "never" (--expires=never, expires
    // 0) is refused. parse_config guarantees that default_lifetime is set
    // then (written out, or from max_lifetime), so a token created without
    // --expires gets that lifetime rather than a refusal.
    bool require_expiry = false;
    // A token unused for this long stops working (counted from its last use,
    // or from its creation when it was never used), and is purged
    // expired_retention after that; nullopt = no limit.
    std::optional<std::chrono::seconds> max_idle;
    // The PAM services a token may name, each a valid service name, without
    // duplicates, in the file's order; empty = any. A token's own empty list
    // means "any service", which is not within a non-empty list: see
    // services_required().
    std::vector<std::string> allowed_services;
    // Every token must name its services (no "any service" tokens).
    bool require_services = false;
    // Tokens that expire within this window are marked in lists and logged
    // once ("expires soon").
    std::chrono::seconds expiry_warning{std::chrono::days{7}};

    // The direct connection (design.md): the socket apitokend serves on
    // besides the bus, when systemd does not pass one; "" = none.
    // APITOKEN_SOCKET in the environment names another (tests).
    std::string direct_socket = ipc::kDirectSocketPath;

    // Fleet mode (design.md "Fleet mode"): on when fleet_database is set.
    // A libpq connection string; it may hold a password, so it is never
    // logged or shown.
    std::string fleet_database{};
    // This host's name in the fleet (what --host globs match); "" = the
    // host name.
    std::string fleet_host_name{};
    // How long a host that cannot reach the database keeps authenticating
    // from its replica (counted from the last time it heard from it).
    std::chrono::seconds fleet_offline_grace{std::chrono::days{1}};
    // Catch-up poll besides LISTEN/NOTIFY (and the reconnect back-off's cap).
    std::chrono::seconds fleet_poll_interval{30};
    // LISTEN for changes (no: the poll alone; for measuring what lost
    // notifications cost).
    bool fleet_listen = true;
    // How often this host's uses are added to the fleet's (one statement).
    std::chrono::seconds fleet_usage_flush_interval{60};
    // Tokens made on this host without --host are for this host only.
    bool fleet_create_scope_this_host = false;
    // A token works only for the uid its owner had when it was made.
    bool fleet_match_uid = true;

    [[nodiscard]] bool fleet() const noexcept { return !fleet_database.empty(); }

    // Whether a token must name at least one service: require_services, or
    // allowed_services limits them (an empty list would mean any service).
    [[nodiscard]] bool services_required() const noexcept {
        return require_services || !allowed_services.empty();
    }

    // Whether a token may name `service` (allowed_services empty, or in it).
    [[nodiscard]] bool service_allowed(std::string_view service) const noexcept;

    bool operator==(const Config&) const = default;
};

// What is wrong with a configuration, for the admin: "FILE:LINE: KEY: what is
// wrong", or "FILE:LINE: what" / "FILE: what" when no key or line is at fault.
// Keys and values from the file are shown escaped (\xNN) and shortened.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses the text of a configuration file: one "key = value" per line, blank
// lines and lines starting with '#' ignored, every key at most once. Keys left
// out keep their defaults. `file_name` is only used in error messages.
// Throws ConfigError at the first problem; never anything else for any input
// (std::bad_alloc aside).
[[nodiscard]] Config parse_config(std::string_view text, const std::string& file_name);

// Reads and parses the file at `path`. A missing file gives the defaults
// unless `must_exist` (an admin naming a file with --config means that file).
// Throws ConfigError when the file cannot be read (with the system's reason),
// is not a regular file or character device, is larger than
// kMaxConfigFileBytes (read no further than that), or does not parse.
[[nodiscard]] Config load_config(const std::filesystem::path& path, bool must_exist);

} // namespace apitoken::daemon
