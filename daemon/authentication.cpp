#include "daemon/authentication.hpp"

#include "daemon/authentication_pending.hpp"

#include "daemon/use_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "store/name_rules.hpp"
#include "store/store_error.hpp"

#include <new>
#include <utility>
#include <vector>

namespace apitoken::daemon {

using authentication_detail::EarlyVerdict;
using authentication_detail::Hashing;
using ipc::Error;

Authenticator::Authenticator(const Config& config, store::TokenStore& store, const AuditLog& log,
                             HashRunner& hashing, const AccessControl& access, UsageBatch& usage)
    : config_(config), store_(store), log_(log), hashing_(hashing), access_(access), usage_(usage),
      throttle_(config.throttle_max_failures, config.throttle_window),
      host_name_(fleet_host_name(config)),
      dummy_hash_(store::hash_token(store::generate_token().text.view(), config.hash)) {}

void Authenticator::authenticate(AuthRequest request, CallerLookup& caller, Reply reply) {
    const PendingPtr pending = prepare(std::move(request), std::move(reply));
    caller.identify([this, pending](const Identity& who) { identified(pending, who); });
    if (!pending->caller && !pending->answered) {
        start_early_hash(pending);
    }
}

// Everything that does not depend on who asks runs before the caller is
// known: the user and store lookups, and the parse that refuses junk.
Authenticator::PendingPtr Authenticator::prepare(AuthRequest request, Reply reply) {
    auto pending = std::make_shared<Pending>();
    Pending& p = *pending;
    p.requested_user = std::move(request.user);
    p.service = std::move(request.service);
    p.rhost = std::move(request.rhost);
    p.ruser = std::move(request.ruser);
    p.requester_uid = request.requester_uid;
    p.token = std::move(request.token);
    p.params = config_.hash;
    p.reply = std::move(reply);
    try {
        std::string problem = p.service.empty() ? "" : store::service_name_problem(p.service);
        if (problem.empty()) {
            problem = store::rhost_problem(p.rhost);
        }
        if (problem.empty() && !p.ruser.empty()) {
            problem = store::user_name_problem(p.ruser);
        }
        if (!problem.empty()) {
            throw ApiError(Error::InvalidArgument, problem);
        }
        if (!p.requested_user.empty()) {
            p.target = AccessControl::look_up(p.requested_user);
        }
    } catch (...) {
        p.decide(EarlyVerdict::When::BeforeAuthorization, failure_of_current_exception(log_));
        p.token = store::SecretBuffer();
        return pending;
    }
    if (p.target) {
        start_check(p);
    }
    return pending;
}

// Parses the token, looks it up and chooses the hash to verify: the real
// one, or the dummy when there is no usable token, so that every kind of
// wrong token costs the same time.
void Authenticator::start_check(Pending& p) {
    if (store::has_jenkins_token_shape(p.token.view())) {
        return start_imported_check(p);
    }
    const auto id = store::parse_token(p.token.view());
    if (!id) {
        // Junk costs no hashing and no store access.
        p.decide(EarlyVerdict::When::AfterAuthorization, authentication_failed(),
                 "malformed token");
        p.token = store::SecretBuffer();
        return;
    }
    p.token_id = id->hex();
    try {
        p.record = store_.find(*id);
    } catch (const store::StoreError& error) {
        p.decide(EarlyVerdict::When::AfterAuthorization, failure_of(error, log_));
        p.token = store::SecretBuffer();
        return;
    }
    if (!p.target->uid) {
        p.decide(EarlyVerdict::When::AfterHash, {Error::NoSuchUser, "no such user: " + p.user()},
                 "user does not exist");
        p.record.reset();
    } else if (!p.record || p.record->user != p.user()) {
        p.decide(EarlyVerdict::When::AfterHash, authentication_failed(),
                 "no such token for this user (id " + p.token_id + ")");
        p.record.reset();
    }
    p.hash = p.record ? p.record->hash : dummy_hash_;
}

// A Jenkins-shaped token (the PAM module's jenkins_tokens option) is
// checked against the user's imported tokens alone; the dummy hash costs
// what no match costs.
void Authenticator::start_imported_check(Pending& p) {
    p.jenkins = true;
    p.hash = dummy_hash_;
    if (!p.target->uid) {
        p.decide(EarlyVerdict::When::AfterHash, {Error::NoSuchUser, "no such user: " + p.user()},
                 "user does not exist");
        return;
    }
    try {
        // The account's own: an older account's (another uid) works for
        // nobody, and would cost a run of its own (another salt).
        for (auto& record : store_.list(p.user())) {
            if (record.origin == store::kOriginJenkins && record.uid == *p.target->uid) {
                p.imported.push_back(std::move(record));
            }
        }
    } catch (const store::StoreError& error) {
        p.decide(EarlyVerdict::When::AfterAuthorization, failure_of(error, log_));
        p.token = store::SecretBuffer();
        return;
    }
    if (p.imported.empty()) {
        p.decide(EarlyVerdict::When::AfterHash, authentication_failed(),
                 "Jenkins-shaped token, but no token of this user was imported from Jenkins");
    }
}

// While the bus names the caller (a round trip), the verify may already run
// on a worker that is idle anyway: that overlap takes nothing from anyone
// (no queued job waits), and it is not tried for a user some source is
// throttled for, so a throttled guesser's calls cost no hashing.
void Authenticator::start_early_hash(const PendingPtr& pending) {
    const Pending& p = *pending;
    if (p.target && !p.hash.empty() && p.hashing == Hashing::NotStarted &&
        !throttle_.any_blocked_for(p.user(), Throttle::Clock::now())) {
        static_cast<void>(start_verify(pending, std::nullopt));
    }
}

// A hash this cheap (the default is 64 KiB) may run on the loop thread
// when the workers have nothing to do (HashRunner::run_here_if_idle); a
// costlier one (libsodium's INTERACTIVE is 64 MiB) always goes to a worker.
// The rule depends on the configuration only, never on the token, so a
// known and an unknown token take the same way.
constexpr std::size_t kMaxMemlimitHere = std::size_t{1} << 20U;

// In the caller's lane, or (no lane) at once on an idle worker; for a known
// caller and a cheap hash, here when the workers are idle (then Done on
// return, and the caller finishes). False when the runner has no room. The
// work step holds a plain pointer: `done` keeps the request (and the bus
// message inside its reply) alive, and releases it on the loop thread.
bool Authenticator::start_verify(const PendingPtr& pending, const std::optional<HashLane>& lane) {
    HashRunner::Step work = [p = pending.get()] {
        try {
            p->verify();
        } catch (const std::bad_alloc&) {
            p->out_of_memory = true;
        }
        p->token = store::SecretBuffer(); // wiped now, not when the reply is sent
    };
    if (lane && !pending->jenkins && pending->params.memlimit <= kMaxMemlimitHere &&
        hashing_.run_here_if_idle(work)) {
        take_hash_result(*pending);
        return true;
    }
    HashRunner::Step done = [this, pending] { hashed(*pending); };
    const bool started = lane ? hashing_.try_submit(*lane, std::move(work), std::move(done))
                              : hashing_.try_start_on_idle_worker(std::move(work), std::move(done));
    if (started) {
        pending->hashing = Hashing::Running;
    }
    return started;
}

void Authenticator::identified(const PendingPtr& pending, const Identity& who) {
    if (const auto* failure = std::get_if<Failure>(&who)) {
        return caller_unknown(*pending, *failure);
    }
    caller_known(pending, std::get<Caller>(who));
}

void Authenticator::caller_known(const PendingPtr& pending, const Caller& caller) {
    Pending& p = *pending;
    p.caller = caller;
    if (p.verdict && p.verdict->when == EarlyVerdict::When::BeforeAuthorization) {
        return answer(p, p.verdict->failure);
    }
    try {
        if (p.target) {
            access_.authorize(caller, *p.target, Action::Authenticate, false);
        } else {
            p.target = AccessControl::caller_itself(caller);
            start_check(p);
        }
    } catch (...) {
        return answer(p, failure_of_current_exception(log_));
    }
    if (const auto cut_off = gate_ != nullptr ? gate_->refusal(now_seconds()) : std::nullopt) {
        log_.record(AuditEvent::AuthFailed, {.user = p.user(),
                                             .service = p.service,
                                             .rhost = p.rhost,
                                             .caller_uid = caller.uid,
                                             .result = "unavailable",
                                             .reason = *cut_off});
        return answer(p, Failure{Error::Busy, "this host cannot vouch for its tokens now (cut "
                                              "off from the fleet database); its log says why"});
    }
    if (throttle_.blocked(p.source(), Throttle::Clock::now())) {
        // A throttled source learns nothing until its window has passed, not
        // even whether a token is right: that is what slows a guesser. The
        // real user from another source (host, caller) is not affected.
        return fail(p, too_many_attempts(), "too many failed attempts from this source");
    }
    if (log_.debug_enabled()) {
        log_.debug("authenticate: caller uid " + std::to_string(caller.uid) + ", user " +
                   log_value(p.user()) + ", token id " + p.token_id + ", service " +
                   log_value(p.service) +
                   (p.jenkins ? ": Jenkins-shaped, verifying against " +
                                    std::to_string(p.imported.size()) + " imported"
                              : (p.record ? ": verifying" : ": no usable token")));
    }
    if (p.verdict && p.verdict->when == EarlyVerdict::When::AfterAuthorization) {
        return conclude(p, p.verdict->failure, p.verdict->reason);
    }
    if (p.hashing == Hashing::NotStarted && !start_verify(pending, p.lane())) {
        log_.record(AuditEvent::AuthFailed, {.user = p.user(),
                                             .service = p.service,
                                             .rhost = p.rhost,
                                             .ruser = p.ruser,
                                             .requester_uid = p.requester_uid,
                                             .caller_uid = caller.uid,
                                             .result = "busy",
                                             .reason = "no room in the hashing queue"});
        return answer(p, busy());
    }
    if (p.hashing == Hashing::Done) {
        finish(p);
    }
    // Else the worker is still hashing: hashed() finishes.
}

void Authenticator::caller_unknown(Pending& p, const Failure& failure) {
    const bool overloaded = failure.code == Error::Busy;
    log_.record(overloaded ? AuditEvent::AuthFailed : AuditEvent::AccessDenied,
                {.user = p.requested_user,
                 .service = p.service,
                 .rhost = p.rhost,
                 .result = overloaded ? "busy" : "refused",
                 .reason = overloaded ? "too many calls waiting for the bus to name their caller"
                                      : failure.message});
    answer(p, failure);
}

// On the loop thread, once the worker is done.
void Authenticator::hashed(Pending& p) {
    take_hash_result(p);
    // Not yet known (the bus is slow to say), or already refused.
    if (p.caller && !p.answered) {
        finish(p);
    }
}

void Authenticator::take_hash_result(Pending& p) {
    p.hashing = Hashing::Done;
    if (p.imported_match) {
        p.record = p.imported[*p.imported_match];
        p.token_id = p.record->id.hex();
    }
}

// Both the caller and the verify are known.
void Authenticator::finish(Pending& p) {
    if (log_.debug_enabled()) {
        log_.debug("authenticate: user " + log_value(p.user()) + ": hash checked, " +
                   (p.matched ? "match" : "no match") + (p.rehashed ? ", re-hashed" : ""));
    }
    if (p.out_of_memory) {
        log_.error("out of memory while checking a token");
        return answer(p, out_of_memory());
    }
    if (p.verdict) {
        return conclude(p, p.verdict->failure, p.verdict->reason);
    }
    if (!p.matched) {
        return conclude(p, authentication_failed(),
                        p.jenkins ? "no token imported from Jenkins matches" : "wrong secret");
    }
    std::optional<store::TokenRecord> current;
    try {
        current = store_.find(p.record->id);
    } catch (const store::StoreError& error) {
        return answer(p, failure_of(error, log_));
    }
    // Identity, not the hash: a concurrent check may have re-hashed the token.
    const store::TokenRecord& record = *p.record;
    if (!current || current->user != record.user || current->uid != record.uid ||
        current->created != record.created) {
        // Not the caller's fault: no throttle failure.
        return fail(p, authentication_failed(), "token revoked while it was being checked");
    }
    // The record as it is now: rotated, updated or used meanwhile.
    if (const auto reason = rejection(*current, p)) {
        return conclude(p, authentication_failed(), *reason);
    }
    accept(p, *current);
}

// A refusal that counts against the source (logged), or, without a reason,
// the daemon's own trouble (answered as it is).
void Authenticator::conclude(Pending& p, const Failure& failure, std::string_view reason) {
    if (reason.empty()) {
        return answer(p, failure);
    }
    throttle_.record_failure(p.source(), Throttle::Clock::now());
    fail(p, failure, reason);
}

} // namespace apitoken::daemon
