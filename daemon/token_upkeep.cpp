#include "daemon/token_upkeep.hpp"

#include "daemon/token_policy.hpp"
#include "daemon/use_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "store/store_error.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace apitoken::daemon {
namespace {

// 2026-12-09T10:00:00Z
std::string utc_text(store::TimePoint t) {
    const std::time_t seconds = t.time_since_epoch().count();
    std::tm parts{};
    std::array<char, 32> text{};
    if (::gmtime_r(&seconds, &parts) == nullptr ||
        std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) {
        return std::to_string(seconds);
    }
    return text.data();
}

} // namespace

void warn_expiring(const AuditLog& log, store::TokenStore& store,
                   const store::TokenRecord& record) {
    const std::string when = record.expires ? "at " + utc_text(*record.expires) : "";
    log.record(
        AuditEvent::ExpiresSoon,
        {.user = record.user, .token_id = record.id.hex(), .result = "expires", .reason = when});
    try {
        store.set_expiry_warned(record.id);
    } catch (const store::StoreError& error) {
        log.warning("could not note that token " + record.id.hex() +
                    " was warned about: " + error.what());
    }
}

void TokenUpkeep::run() {
    run(now_seconds());
}

void TokenUpkeep::run(store::TimePoint now) {
    try {
        purge(now);
        warn_expiring_tokens(now);
    } catch (const store::StoreError& error) {
        log_.error(std::string("could not clean up the token store: ") + error.what());
    }
}

void TokenUpkeep::purge(store::TimePoint now) {
    if (const std::size_t n = store_.purge_expired(now, config_.expired_retention); n > 0) {
        log_.info("deleted " + std::to_string(n) + " tokens that expired more than " +
                  describe_span(config_.expired_retention) + " ago");
    }
    if (const std::size_t n = store_.purge_rotated(now); n > 0) {
        log_.info("deleted " + std::to_string(n) + " rotated tokens whose grace period was over");
    }
    if (const std::size_t n = purge_idle(now); n > 0) {
        log_.info("deleted " + std::to_string(n) + " tokens unused for longer than max_idle (" +
                  describe_span(*config_.max_idle) + ") and " +
                  describe_span(config_.expired_retention) + " more");
    }
    if (const std::size_t n = purge_orphans(); n > 0) {
        log_.info("deleted " + std::to_string(n) +
                  " orphaned tokens (their user is gone, or was made again with another uid)");
    }
}

// Idle tokens stopped working at max_idle; like expired ones, they are kept
// expired_retention longer (to be seen in lists) and then deleted. There is
// no index by last use: this reads every record, once an hour, and only
// when max_idle is set.
std::size_t TokenUpkeep::purge_idle(store::TimePoint now) {
    if (!config_.max_idle) {
        return 0;
    }
    const store::TimePoint cutoff = now - *config_.max_idle - config_.expired_retention;
    std::vector<store::TokenRecord> idle;
    for (auto& record : store_.list_all()) {
        if (idle_since(record) < cutoff) {
            idle.push_back(std::move(record));
        }
    }
    return idle.empty() ? 0 : store_.revoke_many(idle).size();
}

// Tokens whose account is gone or was made again with another uid belong
// to nobody (store::orphaned, the check the lists and token creation use).
// Asks the user directory about every user who has tokens, one at a time.
// Another uid is an answer: that account's old tokens go at once. "No such
// user" is believed only when the directory says it again at the next run
// (an hour later): a directory that answers so while it is not up yet (at
// boot) or for a moment costs no tokens; one that fails outright costs
// none either (the sweep stops there and is tried again next time); and
// when more than half of the users (at least 10) are gone at once, the
// directory is more likely broken than they are deleted: nobody's tokens go
// for that (logged). What goes, goes in one transaction. In
// fleet mode the replica is the fleet's: another uid here may be this
// host's NSS, not a deleted account (fleet_match_uid decides at each use),
// so nothing goes.
std::size_t TokenUpkeep::purge_orphans() {
    if (config_.fleet()) {
        return 0;
    }
    std::vector<store::TokenStore::AccountNow> known;
    std::vector<store::TokenStore::AccountNow> gone;
    std::set<std::string, std::less<>> unknown;
    const std::vector<std::string> users = store_.users(); // in byte order
    for (const auto& user : users) {
        std::optional<UserEntry> entry;
        try {
            entry = users_(user);
        } catch (const UserDirectoryError& error) {
            log_.warning("kept orphaned tokens for now: cannot look up user " + log_value(user) +
                         ": " + error.what());
            // Who this run found (before `user`) is no longer unknown; who
            // it did not reach stays as the last run left them.
            unknown_users_.erase(unknown_users_.begin(), unknown_users_.lower_bound(user));
            unknown_users_.merge(unknown);
            return store_.purge_orphans(known);
        }
        if (entry) {
            known.push_back({user, entry->uid});
        } else {
            if (unknown_users_.contains(user)) {
                gone.push_back({user, std::nullopt});
            }
            unknown.insert(user);
        }
    }
    unknown_users_ = std::move(unknown);
    constexpr std::size_t kFewGone = 10;
    if (gone.size() > std::max(kFewGone, users.size() / 2)) {
        log_.warning("kept the tokens of " + std::to_string(gone.size()) + " of " +
                     std::to_string(users.size()) +
                     " users the user directory says are gone: more likely the directory is "
                     "broken than so many accounts deleted");
        gone.clear();
    }
    known.insert(known.end(), gone.begin(), gone.end());
    return store_.purge_orphans(known);
}

void TokenUpkeep::warn_expiring_tokens(store::TimePoint now) {
    for (const auto& record : store_.expiring_by(now + config_.expiry_warning)) {
        if (!record.expiry_warned && expiring_soon(record, config_, now)) {
            warn_expiring(log_, store_, record);
        }
    }
}

} // namespace apitoken::daemon
