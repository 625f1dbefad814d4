// TokenManager: making tokens (CreateToken, CreateTokenEx) and rotating
// them (RotateToken): both draw a new secret and hash it off the loop thread.
#include "daemon/token_management.hpp"
#include "daemon/token_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "store/name_rules.hpp"
#include "store/store_error.hpp"

#include <algorithm>
#include <memory>

namespace apitoken::daemon {
namespace {

using ipc::Error;
using store::StoreErrc;
using store::StoreError;

// Long enough to roll a new token out to every script; a longer overlap
// would be a second token in disguise.
constexpr std::int64_t kMaxGraceSeconds = std::int64_t{30} * 24 * 3600;

} // namespace

// The tokens an account deleted and made again left behind (another uid)
// work for nobody; they are deleted when the new account makes a token
// (before it counts against the maximum), and by the hourly purge
// (TokenUpkeep), which also deletes those of accounts that are gone.
// In fleet mode the replica is the fleet's: another uid here may be this
// host's NSS, not a deleted account (fleet_match_uid decides at each use).
void TokenManager::purge_orphans(const Target& target) {
    if (config_.fleet()) {
        return;
    }
    if (const std::size_t n = store_.purge_orphans(target.name, *target.uid); n > 0) {
        log_.info("deleted " + std::to_string(n) + " tokens of user " + log_value(target.name) +
                  "'s earlier account (another uid)");
    }
}

void TokenManager::precheck_create(const Target& target, const std::string& name) {
    require_valid(store::token_name_problem(name));
    // Refuse before spending a hash; the store checks again when it writes.
    // Only the tokens of this account count (not an old account's orphans),
    // and rotated ones in their grace period hold no name and no place.
    std::size_t live = 0;
    for (const auto& record : store_.list(target.name)) {
        if (store::orphaned(record, target.uid) || record.rotated()) {
            continue;
        }
        ++live;
        if (record.name == name) {
            throw ApiError(Error::DuplicateName,
                           "user " + target.name + " already has a token named \"" + name + "\"");
        }
    }
    if (live >= config_.max_tokens_per_user) {
        throw ApiError(Error::TooManyTokens, "user " + target.name +
                                                 " already has the maximum of " +
                                                 std::to_string(config_.max_tokens_per_user) +
                                                 " tokens; revoke one first");
    }
}

store::TokenRequest TokenManager::token_request(const Caller& caller, const CreateRequest& request,
                                                store::TimePoint now) {
    const Target target = access_.resolve(caller, request.user, Action::Manage, true);
    check_description(request.description);
    store::TokenRequest wanted{.user = target.name,
                               .uid = *target.uid,
                               .name = request.name,
                               .expires = policy_expiry(config_, request.expires, now, now),
                               .services = policy_services(config_, request.services),
                               .description = request.description,
                               .sources = policy_sources(request.sources),
                               .max_uses = policy_max_uses(request.max_uses),
                               .hosts = policy_hosts(config_, request.hosts, request.max_uses,
                                                     target.caller_acts_for_anyone),
                               .created_by = caller.uid};
    purge_orphans(target);
    precheck_create(target, request.name);
    return wanted;
}

void TokenManager::create_token(const Caller& caller, const CreateRequest& request,
                                const CreateReply& reply) {
    const auto now = now_seconds();
    std::shared_ptr<const store::TokenRequest> wanted;
    try {
        wanted = std::make_shared<const store::TokenRequest>(token_request(caller, request, now));
    } catch (...) {
        return reply(failure_of_current_exception(log_), nullptr);
    }
    issue(
        caller, wanted, now,
        [this, wanted](store::IssuedToken& issued) { store_created(*wanted, issued); },
        AuditEvent::TokenCreated, reply);
}

void TokenManager::issue(const Caller& caller,
                         const std::shared_ptr<const store::TokenRequest>& wanted,
                         store::TimePoint now, StoreStep save, AuditEvent event,
                         const CreateReply& reply) {
    log_.debug("issue: caller uid " + std::to_string(caller.uid) + ", user " +
               log_value(wanted->user) + ", name " + log_value(wanted->name) + ": hashing");
    auto issued = std::make_shared<std::optional<store::IssuedToken>>();
    const bool queued = hashing_.try_submit(
        HashLane{caller.uid, {}},
        [issued, wanted, params = config_.hash, now] {
            *issued = store::prepare_token(*wanted, params, now);
        },
        [this, issued, wanted, reply, caller, event, save = std::move(save)] {
            if (!issued->has_value()) { // the work step ran out of memory
                log_.error("out of memory while making a token");
                return reply(out_of_memory(), nullptr);
            }
            try {
                save(**issued);
            } catch (...) {
                return reply(failure_of_current_exception(log_), nullptr);
            }
            const store::TokenRecord& made = (*issued)->record;
            const std::string reason =
                made.rotated_from ? "replaces " + made.rotated_from->hex() : wanted->name;
            log_.record(event, {.user = wanted->user,
                                .token_id = made.id.hex(),
                                .caller_uid = caller.uid,
                                .result = "success",
                                .reason = reason});
            reply(std::nullopt, &**issued);
            issued->reset(); // wipes the token text now
        });
    if (!queued) {
        reply(busy(), nullptr);
    }
}

void TokenManager::store_created(const store::TokenRequest& request, store::IssuedToken& issued) {
    try {
        store_.create(issued.record);
    } catch (const StoreError& error) {
        if (error.code() != StoreErrc::DuplicateId) {
            throw;
        }
        // 48 random bits collided: draw again here (rare enough that one
        // hash on the loop's thread does not matter).
        issued = store::issue_token(store_, request, config_.hash, issued.record.created);
    }
}

// The new token keeps the old one's settings, within today's policy; its
// lifetime is as long as the old one's was, unless the request says.
store::TokenRequest TokenManager::successor_of(const Caller& caller, const store::TokenRecord& old,
                                               const RotateRequest& request,
                                               store::TimePoint now) const {
    std::int64_t expires = request.expires.value_or(ipc::kExpiresNever);
    if (!request.expires && old.expires) {
        // As long as the old one lived, up to the latest time there is.
        const std::int64_t lifetime = (*old.expires - old.created).count();
        expires = std::min(now.time_since_epoch().count() + lifetime, kLatestExpiry);
    } else if (!request.expires && config_.require_expiry) {
        expires = ipc::kExpiresDefault;
    }
    return {.user = old.user,
            .uid = old.uid,
            .name = old.name,
            .expires = policy_expiry(config_, expires, now, now),
            .services = policy_services(config_, old.services),
            .description = old.description,
            .sources = old.sources,
            .max_uses = old.max_uses,
            .hosts = old.hosts,
            .created_by = caller.uid,
            .rotated_from = old.id};
}

void TokenManager::rotate_token(const Caller& caller, const RotateRequest& request,
                                const CreateReply& reply) {
    const auto now = now_seconds();
    std::shared_ptr<const store::TokenRequest> wanted;
    std::optional<store::TimePoint> grace_until;
    try {
        const Target target = access_.resolve(caller, request.user, Action::Manage, false);
        const store::TokenRecord old = owned_token(target, request.id);
        if (old.rotated()) {
            throw ApiError(Error::InvalidArgument,
                           "token " + request.id + " was rotated already (to " +
                               old.rotated_to->hex() + "); rotate that one instead");
        }
        if (request.grace < 0 || request.grace > kMaxGraceSeconds) {
            throw ApiError(Error::InvalidArgument,
                           "the grace period must be between 0 and 30 days");
        }
        if (request.grace > 0) {
            grace_until = now + std::chrono::seconds{request.grace};
        }
        wanted =
            std::make_shared<const store::TokenRequest>(successor_of(caller, old, request, now));
    } catch (...) {
        return reply(failure_of_current_exception(log_), nullptr);
    }
    issue(
        caller, wanted, now,
        [this, wanted, grace_until](store::IssuedToken& issued) {
            store_.rotate(wanted->user, *wanted->rotated_from, issued.record, grace_until,
                          wanted->uid);
        },
        AuditEvent::TokenRotated, reply);
}

} // namespace apitoken::daemon
