#pragma once

#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"

#include <cstddef>

namespace apitoken::daemon {

// Logs the one "expires soon" event of `record` and marks it as logged. A
// store that cannot write is logged and tried again later (the event may
// then come twice, never not at all).
void warn_expiring(const AuditLog& log, store::TokenStore& store, const store::TokenRecord& record);

// The daemon's hourly care of the store (and once at start-up): deletes
// what no longer works — expired longer ago than expired_retention,
// rotated past their grace period, unused for max_idle plus
// expired_retention — and logs "expires soon" for tokens entering the
// expiry_warning window (whichever comes first: this, or their next use).
// It reads only what it deletes or warns about, through the time indexes
// (max_idle apart, which has none): never every user or every record, so
// neither the daemon's memory nor its start-up grows with the store.
// (Orphaned tokens are deleted when their user's new account makes a
// token: TokenManager.) Runs on the loop thread; never throws (what fails
// is logged and tried again next time).
class TokenUpkeep {
public:
    TokenUpkeep(const Config& config, store::TokenStore& store, const AuditLog& log)
        : config_(config), store_(store), log_(log) {}

    void run();

private:
    void purge();
    [[nodiscard]] std::size_t purge_idle(store::TimePoint now);
    void warn_expiring_tokens(store::TimePoint now);

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
};

} // namespace apitoken::daemon
