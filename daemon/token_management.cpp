// TokenManager: listing, changing and revoking tokens (creation and
// rotation are in token_creation.cpp).
#include "daemon/token_management.hpp"

#include "contract/token_shape.hpp"
#include "daemon/token_policy.hpp"
#include "daemon/use_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "store/name_rules.hpp"
#include "store/store_error.hpp"
#include "store/token_format.hpp"

#include <algorithm>
#include <chrono>

namespace apitoken::daemon {
namespace {

using ipc::Error;

// Never echoes the input: it might be a whole token pasted by mistake.
store::TokenId parse_id(const std::string& text) {
    const auto id = store::TokenId::from_hex(text);
    if (!id) {
        throw ApiError(
            Error::InvalidArgument,
            store::has_token_shape(text)
                ? "that is a whole token, not its id: the id is the 12 hex digits after \"atk_\""
                : "not a token id (12 lowercase hex digits, as \"apitokenctl list\" shows)");
    }
    return *id;
}

// The uid a call acts on: the user's account as it is now, except for
// callers who clean up after anyone (orphans included).
std::optional<uid_t> account_of(const Target& target) {
    return target.caller_acts_for_anyone ? std::nullopt : target.uid;
}

std::chrono::seconds span_of(std::int64_t seconds, const char* key) {
    if (seconds < 0) {
        throw ApiError(Error::InvalidArgument, std::string("\"") + key + "\" must not be negative");
    }
    return std::chrono::seconds{seconds};
}

// Whether a token passes the filter's time conditions at `now`.
bool selected(const store::TokenRecord& record, const TokenFilter& filter, store::TimePoint now) {
    if (filter.ids &&
        std::find(filter.ids->begin(), filter.ids->end(), record.id.hex()) == filter.ids->end()) {
        return false;
    }
    if (filter.expired && !record.expired_at(now)) {
        return false;
    }
    // Differences, not sums: no span, however large, can overflow here.
    if (filter.expiring_within &&
        (!record.expires ||
         *record.expires - now > span_of(*filter.expiring_within, "expiring_within"))) {
        return false;
    }
    return !filter.unused_for ||
           now - idle_since(record) >= span_of(*filter.unused_for, "unused_for");
}

} // namespace

store::TokenRecord TokenManager::owned_token(const Target& target, const std::string& id) const {
    const auto record = store_.find(parse_id(id));
    const auto uid = account_of(target);
    if (!record || record->user != target.name || (uid && record->uid != *uid)) {
        throw ApiError(Error::NoSuchToken, "user " + target.name + " has no token " + id);
    }
    return *record;
}

std::vector<ListedToken> TokenManager::visible_tokens(const Target& target) const {
    std::vector<ListedToken> listed;
    for (auto& record : store_.list(target.name)) {
        const bool orphaned = store::orphaned(record, target.uid);
        if (!orphaned || target.caller_acts_for_anyone) {
            listed.push_back({std::move(record), orphaned});
        }
    }
    if (config_.fleet()) {
        const std::string here = fleet_host_name(config_);
        for (auto& token : listed) {
            with_fleet_usage(token, here);
        }
    }
    return listed;
}

// The fleet's sum lags this host's own uses by a flush and a poll: the
// larger count and the later use are the truer ones.
void TokenManager::with_fleet_usage(ListedToken& token, const std::string& here) const {
    store::TokenRecord& record = token.record;
    const auto fleet = store_.fleet_usage(record.id);
    if (record.last_used) {
        token.last_host = here;
    }
    if (!fleet) {
        return;
    }
    record.use_count = std::max(record.use_count, fleet->use_count);
    if (!record.last_used || fleet->last_used > *record.last_used) {
        record.last_used = fleet->last_used;
        record.last_service = fleet->service;
        record.last_rhost = fleet->rhost;
        token.last_host = fleet->host;
    }
}

std::vector<ListedToken> TokenManager::list_tokens(const Caller& caller, const std::string& user,
                                                   const TokenFilter& filter) {
    std::vector<ListedToken> all;
    if (filter.all_users) {
        access_.require_admin(caller, "every user's tokens");
        for (const auto& name : store_.users()) {
            Target target = AccessControl::look_up(name);
            target.caller_acts_for_anyone = true;
            auto tokens = visible_tokens(target);
            std::move(tokens.begin(), tokens.end(), std::back_inserter(all));
        }
    } else {
        all = visible_tokens(access_.resolve(caller, user, Action::Manage, false));
    }
    const auto now = now_seconds();
    std::erase_if(all, [&](const ListedToken& t) { return !selected(t.record, filter, now); });
    return all;
}

std::vector<std::string> TokenManager::revoke_tokens(const Caller& caller, const std::string& user,
                                                     const TokenFilter& filter, bool dry_run) {
    if (!filter.ids && !filter.unused_for && !filter.expired) {
        throw ApiError(Error::InvalidArgument,
                       "say which tokens to revoke: ids, unused_for or expired");
    }
    std::vector<store::TokenRecord> chosen;
    for (auto& token : list_tokens(caller, user, filter)) {
        chosen.push_back(std::move(token.record));
    }
    std::vector<std::string> ids;
    if (dry_run) {
        for (const auto& record : chosen) {
            ids.push_back(record.id.hex());
        }
        return ids;
    }
    for (const auto& id : store_.revoke_many(chosen)) {
        ids.push_back(id.hex());
    }
    for (const auto& record : chosen) {
        if (std::find(ids.begin(), ids.end(), record.id.hex()) != ids.end()) {
            log_.record(AuditEvent::TokenRevoked, {.user = record.user,
                                                   .token_id = record.id.hex(),
                                                   .caller_uid = caller.uid,
                                                   .result = "success",
                                                   .reason = "bulk revocation"});
        }
    }
    return ids;
}

void TokenManager::revoke_token(const Caller& caller, const std::string& user,
                                const std::string& id_text) {
    const Target target = access_.resolve(caller, user, Action::Manage, false);
    store_.revoke(target.name, parse_id(id_text), account_of(target));
    log_.record(
        AuditEvent::TokenRevoked,
        {.user = target.name, .token_id = id_text, .caller_uid = caller.uid, .result = "success"});
}

std::uint64_t TokenManager::revoke_all_tokens(const Caller& caller, const std::string& user) {
    const Target target = access_.resolve(caller, user, Action::Manage, false);
    const std::size_t revoked = store_.revoke_all(target.name, account_of(target));
    log_.record(AuditEvent::TokenRevoked, {.user = target.name,
                                           .token_id = "*",
                                           .caller_uid = caller.uid,
                                           .result = "success",
                                           .reason = std::to_string(revoked) + " tokens"});
    return revoked;
}

void TokenManager::rename_token(const Caller& caller, const std::string& user,
                                const std::string& id_text, const std::string& name) {
    const Target target = access_.resolve(caller, user, Action::Manage, false);
    const store::TokenId id = parse_id(id_text);
    require_valid(store::token_name_problem(name));
    store_.rename(target.name, id, name, account_of(target));
    log_.record(AuditEvent::TokenRenamed, {.user = target.name,
                                           .token_id = id_text,
                                           .caller_uid = caller.uid,
                                           .result = "success",
                                           .reason = name});
}

// The changes as the store takes them, within today's policy. An expiry
// counts from the token's creation: updating it cannot stretch a token's
// life past max_lifetime (that takes a rotation, with a new secret).
store::TokenUpdate TokenManager::checked_update(const store::TokenRecord& record,
                                                const TokenChanges& changes, store::TimePoint now,
                                                bool caller_is_admin) const {
    store::TokenUpdate update;
    if (changes.name) {
        require_valid(store::token_name_problem(*changes.name));
        update.name = changes.name;
    }
    if (changes.description) {
        check_description(*changes.description);
        update.description = changes.description;
    }
    if (changes.services) {
        update.services = policy_services(config_, *changes.services);
    }
    if (changes.sources) {
        update.sources = policy_sources(*changes.sources);
    }
    if (changes.hosts) {
        update.hosts = policy_hosts(config_, *changes.hosts, record.max_uses, caller_is_admin);
    }
    if (changes.expires) {
        if (*changes.expires == ipc::kExpiresDefault) {
            throw ApiError(Error::InvalidArgument, "invalid expiry time");
        }
        update.expires = policy_expiry(config_, *changes.expires, record.created, now);
    }
    return update;
}

store::TokenRecord TokenManager::update_token(const Caller& caller, const std::string& user,
                                              const std::string& id, const TokenChanges& changes) {
    const Target target = access_.resolve(caller, user, Action::Manage, false);
    const store::TokenRecord before = owned_token(target, id);
    const store::TokenUpdate update =
        checked_update(before, changes, now_seconds(), target.caller_acts_for_anyone);
    store::TokenRecord after = store_.update(target.name, before.id, update, account_of(target));
    log_.record(
        AuditEvent::TokenUpdated,
        {.user = target.name, .token_id = id, .caller_uid = caller.uid, .result = "success"});
    return after;
}

std::uint64_t TokenManager::token_count(const Caller& caller) const {
    access_.require_admin(caller, "the number of all tokens");
    return store_.count();
}

std::int64_t TokenManager::max_lifetime() const noexcept {
    return config_.max_lifetime ? config_.max_lifetime->count() : 0;
}

bool TokenManager::expiring_soon(const store::TokenRecord& record) const {
    return daemon::expiring_soon(record, config_, now_seconds());
}

} // namespace apitoken::daemon
