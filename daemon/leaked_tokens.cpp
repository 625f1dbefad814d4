#include "daemon/leaked_tokens.hpp"

#include "daemon/wall_clock.hpp"
#include "store/store_error.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"

#include <utility>

namespace apitoken::daemon {

namespace state = ipc::token_state;
using ipc::Error;

// One RevokeLeakedTokens call: its tokens are verified one after another,
// so a call holds at most one job in its caller's lane.
struct LeakedTokens::Revocation {
    Caller caller;
    std::vector<store::SecretBuffer> tokens;
    std::size_t next = 0;
    std::vector<std::string> revoked{};
    RevokeReply reply;
};

namespace {

// A token that still works (so worth revoking): not expired, not past the
// grace period of a rotation, and with an Argon2id hash (an imported
// Jenkins token's secret is no atk_ token).
bool usable(const store::TokenRecord& record, store::TimePoint now) {
    return !record.expired_at(now) && !(record.grace_until && *record.grace_until <= now) &&
           record.hash.starts_with(store::kArgon2idPrefix);
}

const char* state_of(const store::TokenRecord& record, store::TimePoint now) {
    if (record.expired_at(now)) {
        return state::kExpired;
    }
    if (record.grace_until && *record.grace_until <= now) {
        return state::kRevoked; // rotated away; purged within the hour
    }
    return state::kLive;
}

} // namespace

LeakedTokens::LeakedTokens(const Config& config, store::TokenStore& store, const AuditLog& log,
                           HashRunner& hashing, const AccessControl& access)
    : store_(store), log_(log), hashing_(hashing), access_(access),
      lookups_(kLookupBudget, kBudgetPeriod), verifies_(kVerifyBudget, kBudgetPeriod),
      dummy_hash_(store::hash_token(store::generate_token().text.view(), config.hash)) {}

bool LeakedTokens::Viewer::sees(const std::string& user, uid_t uid) const {
    return sees_everyone || (self && self->name == user && self->uid == uid);
}

LeakedTokens::Viewer LeakedTokens::viewer_of(const Caller& caller) const {
    Viewer viewer{.self = std::nullopt, .sees_everyone = access_.acts_for_everyone(caller)};
    try {
        viewer.self = AccessControl::caller_itself(caller);
    } catch (const ApiError&) {
        // A uid without a user name owns no tokens; it still gets answers.
    }
    return viewer;
}

void LeakedTokens::pay(const Caller& caller, bool sees_everyone, CallBudget& budget,
                       std::size_t cost, const char* what) {
    if (sees_everyone || budget.try_spend(caller.uid, cost, CallBudget::Clock::now())) {
        return;
    }
    log_.record(AuditEvent::AccessDenied,
                {.caller_uid = caller.uid,
                 .result = "refused",
                 .reason = std::string("leak scan budget spent: ") + what});
    throw ApiError(Error::TooManyAttempts,
                   std::string("too many ") + what + " in the last minutes; try again later");
}

std::vector<LeakLookup> LeakedTokens::look_up(const Caller& caller,
                                              const std::vector<std::string>& ids) {
    if (ids.size() > ipc::kMaxLookupIds) {
        throw ApiError(Error::InvalidArgument,
                       "at most " + std::to_string(ipc::kMaxLookupIds) + " ids per call");
    }
    const Viewer viewer = viewer_of(caller);
    pay(caller, viewer.sees_everyone, lookups_, ids.size(), "token ids looked up");
    const store::TimePoint now = now_seconds();
    std::vector<LeakLookup> answers;
    answers.reserve(ids.size());
    for (const auto& id : ids) {
        answers.push_back(look_up_one(viewer, id, now));
    }
    return answers;
}

LeakLookup LeakedTokens::look_up_one(const Viewer& viewer, const std::string& id_text,
                                     store::TimePoint now) const {
    LeakLookup answer{.id = id_text};
    const auto id = store::TokenId::from_hex(id_text);
    if (!id) {
        return answer;
    }
    if (const auto record = store_.find(*id)) {
        if (viewer.sees(record->user, record->uid)) {
            answer = {id_text, state_of(*record, now), true, record->user, record->name};
        }
        return answer;
    }
    if (const auto gone = store_.find_gone(*id); gone && viewer.sees(gone->user, gone->uid)) {
        const char* why =
            gone->reason == store::GoneReason::Expired ? state::kExpired : state::kRevoked;
        answer = {id_text, why, true, gone->user, gone->name};
    }
    return answer;
}

void LeakedTokens::revoke(const Caller& caller, std::vector<store::SecretBuffer> tokens,
                          RevokeReply reply) {
    if (tokens.size() > ipc::kMaxLeakedTokens) {
        throw ApiError(Error::InvalidArgument,
                       "at most " + std::to_string(ipc::kMaxLeakedTokens) + " tokens per call");
    }
    pay(caller, access_.acts_for_everyone(caller), verifies_, tokens.size(), "leaked tokens");
    auto revocation = std::make_shared<Revocation>(
        Revocation{.caller = caller, .tokens = std::move(tokens), .reply = std::move(reply)});
    verify_next(revocation);
}

// Verifies the next token off the loop; answers when none is left. A
// malformed token costs nothing: whether it is malformed says nothing
// about the store.
void LeakedTokens::verify_next(const RevocationPtr& revocation) {
    Revocation& r = *revocation;
    std::optional<store::TokenId> id;
    while (r.next < r.tokens.size() && !(id = store::parse_token(r.tokens[r.next].view()))) {
        r.tokens[r.next++] = store::SecretBuffer();
    }
    if (!id) {
        r.tokens.clear();
        return r.reply(std::nullopt, r.revoked);
    }
    auto record = store_.find(*id);
    if (record && !usable(*record, now_seconds())) {
        record.reset();
    }
    auto hash = std::make_shared<const std::string>(record ? record->hash : dummy_hash_);
    auto matched = std::make_shared<bool>(false);
    // The work step holds plain pointers: `done` keeps the call (and the
    // bus message in its reply) alive, and releases it on the loop thread.
    store::SecretBuffer* token = &r.tokens[r.next];
    const bool queued = hashing_.try_submit(
        HashLane{.caller = r.caller.uid, .requester = ""},
        [hash, matched, token] {
            *matched = store::verify_token(*hash, token->view());
            *token = store::SecretBuffer(); // wiped as soon as checked
        },
        [this, revocation, record, matched] {
            ++revocation->next;
            verified(*revocation, record, *matched);
            verify_next(revocation);
        });
    if (!queued) {
        r.tokens.clear();
        r.reply(busy(), r.revoked);
    }
}

// On the loop, after a verify: revokes the token if the secret matched a
// token that still works (and is still the one that was checked).
void LeakedTokens::verified(Revocation& revocation, const std::optional<store::TokenRecord>& record,
                            bool matched) {
    if (!matched || !record) {
        return;
    }
    const auto now = store_.find(record->id);
    if (!now || now->hash != record->hash) {
        return; // revoked or rotated meanwhile
    }
    try {
        store_.revoke(now->user, now->id, now->uid);
    } catch (const store::StoreError& error) {
        log_.warning("revoking a leaked token failed: " + std::string(error.what()));
        return;
    }
    const std::string id = now->id.hex();
    log_.record(AuditEvent::TokenRevokedAsLeaked,
                {.user = now->user,
                 .token_id = id,
                 .caller_uid = revocation.caller.uid,
                 .result = "revoked",
                 .reason = "revoked as leaked: the caller (pid " +
                           std::to_string(revocation.caller.pid) + ") presented the whole token"});
    revocation.revoked.push_back(id);
}

} // namespace apitoken::daemon
