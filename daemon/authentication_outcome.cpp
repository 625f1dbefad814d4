#include "daemon/authentication.hpp"

#include "daemon/authentication_pending.hpp"

#include "daemon/token_upkeep.hpp"
#include "daemon/use_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "store/store_error.hpp"

#include <algorithm>
#include <utility>
#include <vector>

// What follows a verdict: the checks a matching secret must still pass, the
// durable count of a limited token's use, the events an admin may alert on,
// and the one answer.
namespace apitoken::daemon {

using authentication_detail::Hashing;

// Why a token whose secret matched is still refused, if it is.
std::optional<std::string> Authenticator::rejection(const store::TokenRecord& record,
                                                    const Pending& p) const {
    if (record.uid != *p.target->uid && (!config_.fleet() || config_.fleet_match_uid)) {
        return "the user's uid changed since the token was made";
    }
    return use_rejection(record, config_,
                         {.service = p.service,
                          .rhost = p.rhost,
                          .rhost_trusted = p.target->caller_acts_for_anyone,
                          .now = now_seconds(),
                          .host_name = host_name_});
}

// A use of a token with a use limit waits until it is on disk: the uses of
// all hashes that finished together are written in one transaction (one
// fsync), so that a flood of them does not hold the loop once per use
// (HashRunner::after_completions).
void Authenticator::count_durably(Pending& p, const store::TokenRecord& record,
                                  store::UsageEvent use,
                                  const std::optional<std::string>& new_source) {
    durable_uses_.push_back({p.shared_from_this(), record, std::move(use), new_source});
    if (durable_uses_.size() == 1) {
        hashing_.after_completions([this] { commit_durable_uses(); });
    }
}

// No success is answered before its use is on disk, so that no crash lets
// a token be used more often than its limit.
void Authenticator::commit_durable_uses() {
    std::vector<DurableUse> batch = std::exchange(durable_uses_, {});
    std::vector<store::UsageEvent> uses;
    uses.reserve(batch.size());
    for (const auto& d : batch) {
        uses.push_back(d.use);
    }
    std::vector<store::UseVerdict> verdicts;
    try {
        verdicts = store_.consume_uses(uses);
    } catch (const store::StoreError& error) {
        const Failure failure = failure_of(error, log_);
        for (auto& d : batch) {
            answer(*d.pending, failure);
        }
        return;
    }
    std::vector<store::UsageEvent> counted;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (verdicts[i] == store::UseVerdict::Counted) {
            counted.push_back(uses[i]);
        }
    }
    usage_.note_written(counted);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        Pending& p = *batch[i].pending;
        if (verdicts[i] == store::UseVerdict::Exhausted) {
            conclude(p, authentication_failed(),
                     "use limit reached (" + std::to_string(batch[i].record.max_uses) + " uses)");
        } else if (verdicts[i] == store::UseVerdict::Gone) {
            fail(p, authentication_failed(), "token revoked while it was being checked");
        } else {
            succeed(p, batch[i].record, batch[i].new_source);
        }
    }
}

// The events an admin may alert on: a source not seen lately, and the
// first use within the expiry warning window.
void Authenticator::note_use(const Pending& p, const store::TokenRecord& record,
                             const std::optional<std::string>& new_source) {
    const std::string id = record.id.hex();
    if (new_source) {
        log_.record(AuditEvent::NewSource, {.user = p.user(),
                                            .token_id = id,
                                            .service = p.service,
                                            .rhost = *new_source,
                                            .ruser = p.ruser,
                                            .requester_uid = p.requester_uid,
                                            .caller_uid = p.caller->uid,
                                            .result = "success"});
    }
    if (!record.expiry_warned && expiring_soon(record, config_, now_seconds())) {
        warn_expiring(log_, store_, record);
    }
}

void Authenticator::accept(Pending& p, const store::TokenRecord& record) {
    // Where it was used from, as far as the caller may say: a user checking
    // their own token names no remote host that the statistics, recent
    // sources or "new source" alerts would believe.
    const std::string rhost = p.target->caller_acts_for_anyone ? p.rhost : std::string();
    const bool new_source = std::none_of(record.recent_sources.begin(), record.recent_sources.end(),
                                         [&](const store::RecentSource& s) {
                                             return s.rhost == rhost && s.service == p.service;
                                         }) &&
                            !usage_.has_pending_use(record.id, rhost, p.service);
    const store::UsageEvent use{record.id, now_seconds(), p.service, rhost};
    const auto source = new_source ? std::optional<std::string>(rhost) : std::nullopt;
    if (record.limited()) {
        return count_durably(p, record, use, source);
    }
    usage_.add(use);
    succeed(p, record, source);
}

void Authenticator::succeed(Pending& p, const store::TokenRecord& record,
                            const std::optional<std::string>& new_source) {
    throttle_.record_success(p.source());
    if (p.rehashed) {
        try {
            store_.replace_hash(record.id, p.record->hash, *p.rehashed);
        } catch (const store::StoreError& error) {
            // The token is fine; it will be re-hashed on a later use.
            log_.warning(std::string("could not re-hash token ") + record.id.hex() + ": " +
                         error.what());
        }
    }
    const std::string id = record.id.hex();
    log_.record(AuditEvent::AuthSucceeded, {.user = p.user(),
                                            .token_id = id,
                                            .service = p.service,
                                            .rhost = p.rhost,
                                            .ruser = p.ruser,
                                            .requester_uid = p.requester_uid,
                                            .caller_uid = p.caller->uid,
                                            .result = "success"});
    note_use(p, record, new_source);
    answer(p, std::nullopt, id);
}

void Authenticator::fail(Pending& p, const Failure& failure, std::string_view reason) {
    log_.record(AuditEvent::AuthFailed, {.user = p.user(),
                                         .token_id = p.record ? p.token_id : std::string(),
                                         .service = p.service,
                                         .rhost = p.rhost,
                                         .ruser = p.ruser,
                                         .requester_uid = p.requester_uid,
                                         .caller_uid = p.caller->uid,
                                         .result = "failure",
                                         .reason = reason});
    answer(p, failure);
}

void Authenticator::answer(Pending& p, const std::optional<Failure>& failure,
                           const std::string& id) {
    // A worker still hashing owns the token until it is done (and wipes it).
    if (p.hashing != Hashing::Running) {
        p.token = store::SecretBuffer();
    }
    if (!p.answered) {
        p.answered = true;
        p.reply(failure, id);
    }
}

} // namespace apitoken::daemon
