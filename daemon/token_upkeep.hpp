#pragma once

#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "daemon/user_directory.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace apitoken::daemon {

// Logs the one "expires soon" event of `record` and marks it as logged. A
// store that cannot write is logged and tried again later (the event may
// then come twice, never not at all).
void warn_expiring(const AuditLog& log, store::TokenStore& store, const store::TokenRecord& record);

// The daemon's hourly care of the store (and once at start-up): deletes
// what no longer works — expired longer ago than expired_retention,
// rotated past their grace period, unused for max_idle plus
// expired_retention, orphaned (the owner's account is gone, or was made
// again with another uid) — and logs "expires soon" for tokens entering
// the expiry_warning window (whichever comes first: this, or their next
// use).
// What it reads: the expired, rotated and expiring tokens through the time
// indexes (only those); with max_idle set, every record, all in memory at
// once (there is no index by last use); and for orphans every user who has
// tokens (the by_user index), one user-directory lookup per user, and
// that user's tokens: every record again, one user's at a time (a user
// the directory does not know loses them only when it still does not
// know them at the next run). Runs on the loop thread; never throws
// (what fails is logged and tried again next time).
class TokenUpkeep {
public:
    // The user directory as it is now (user_by_name: NSS); tests pass their
    // own. nullopt: no such user; throws UserDirectoryError when it cannot
    // say.
    using UserLookup = std::function<std::optional<UserEntry>(std::string_view)>;

    TokenUpkeep(const Config& config, store::TokenStore& store, const AuditLog& log,
                UserLookup users = user_by_name)
        : config_(config), store_(store), log_(log), users_(std::move(users)) {}

    // At the current time.
    void run();
    // As if it were `now` (tests).
    void run(store::TimePoint now);

private:
    void purge(store::TimePoint now);
    [[nodiscard]] std::size_t purge_idle(store::TimePoint now);
    [[nodiscard]] std::size_t purge_orphans();
    void warn_expiring_tokens(store::TimePoint now);

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    UserLookup users_;
    // Users the directory did not know at the last run (their tokens go if
    // it still does not know them at this one).
    std::set<std::string, std::less<>> unknown_users_;
};

} // namespace apitoken::daemon
