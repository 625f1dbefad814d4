#include "daemon/token_service.hpp"

#include "store/name_rules.hpp"
#include "store/store_error.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <new>

namespace apitoken::daemon {
namespace {

using ipc::Error;
using store::StoreErrc;
using store::StoreError;

// Beyond this (9999-12-31T23:59:59Z) time arithmetic could overflow.
constexpr std::int64_t kLatestExpiry = 253402300799;

// Usage statistics wait in memory at most this many at a time; beyond it
// they are written at once (a burst of logins must not grow memory).
constexpr std::size_t kUsageBatchLimit = 4096;

store::TimePoint now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

void require_valid(const std::string& problem) {
    if (!problem.empty()) {
        throw ApiError(Error::InvalidArgument, problem);
    }
}

// Never echoes the input: it might be a whole token pasted by mistake.
std::string not_an_id(const std::string& text) {
    return store::has_token_shape(text)
               ? "that is a whole token, not its id: the id is the 12 hex digits after \"atk_\""
               : "not a token id (12 lowercase hex digits, as \"apitokenctl list\" shows)";
}

std::string describe(std::chrono::seconds lifetime) {
    const auto days = std::chrono::duration_cast<std::chrono::days>(lifetime).count();
    return days >= 1 ? std::to_string(days) + " days"
                     : std::to_string(lifetime.count()) + " seconds";
}

} // namespace

Failure failure_of(const StoreError& error, const AuditLog& log) {
    switch (error.code()) {
    case StoreErrc::NotFound: return {Error::NoSuchToken, error.what()};
    case StoreErrc::DuplicateName: return {Error::DuplicateName, error.what()};
    case StoreErrc::TooManyTokens: return {Error::TooManyTokens, error.what()};
    case StoreErrc::InvalidArgument: return {Error::InvalidArgument, error.what()};
    default:
        log.error(std::string("token store: ") + error.what());
        return {Error::Failed, "the token store failed; the daemon's log says why"};
    }
}

Failure failure_of_current_exception(const AuditLog& log) {
    try {
        throw;
    } catch (const ApiError& refusal) {
        return refusal.failure();
    } catch (const StoreError& store_error) {
        return failure_of(store_error, log);
    } catch (const UserDirectoryError& nss_error) {
        log.error(nss_error.what());
        return {Error::Failed, "the user database could not be read"};
    } catch (const std::bad_alloc&) {
        log.error("out of memory");
        return {Error::Failed, "out of memory"};
    } catch (const std::exception& unexpected) {
        log.error(std::string("internal error: ") + unexpected.what());
        return {Error::Failed, "internal error"};
    } catch (...) {
        log.error("internal error: an unknown exception");
        return {Error::Failed, "internal error"};
    }
}

// One authentication on its way through the service. Shared between the
// event loop, the question to the bus about the caller, and the worker that
// verifies the hash; the token lives only in its SecretBuffer, which is wiped
// as soon as the worker is done (or at once when nothing is to be hashed).
struct TokenService::PendingAuth {
    // Where the hashing is. Refused: the queue was full.
    enum class Work { NotStarted, Running, Done, Refused };

    std::string requested_user; // "" = the caller
    std::optional<Target> target;
    std::string service;
    std::string rhost;
    store::SecretBuffer token;
    AuthReply reply;

    // Known before the caller is.
    std::optional<Failure> invalid; // arguments that no caller may pass
    bool malformed = false;
    std::optional<Failure> store_failure;
    std::string token_id;
    std::optional<store::TokenRecord> record; // nullopt: verify the dummy, then fail
    std::optional<Failure> decided;           // the answer when there is no real token
    std::string decided_reason;
    std::string hash; // what the worker verifies against
    store::HashParams params;
    Work work = Work::NotStarted;
    bool verified = false;
    std::optional<std::string> rehashed;
    bool out_of_memory = false;

    // Known once the bus has said who asked.
    std::optional<Caller> caller;
    // Only callers who may authenticate anyone (root, the auth group) speak
    // for a remote host; anyone else could invent one per call to dodge the
    // throttle or flood its table.
    std::string throttle_rhost;
    bool answered = false;

    [[nodiscard]] const std::string& user() const { return target->name; }
    [[nodiscard]] ThrottleSource source() const {
        return {caller->uid, throttle_rhost, target->name};
    }
};

TokenService::TokenService(const Config& config, store::TokenStore& store, const AuditLog& log,
                           HashRunner& hashing)
    : config_(config), store_(store), log_(log), hashing_(hashing),
      throttle_(config.throttle_max_failures, config.throttle_window),
      dummy_hash_(store::hash_token(store::generate_token().text.view(), config.hash)) {}

PrivilegedGroups TokenService::groups(const Caller& caller, Action action) const {
    // Looked up on every call: an admin adding www-data to the group needs no
    // daemon restart. Root needs no group, and only this action's group
    // matters: each lookup may be a round trip to an NSS service (SSSD, LDAP).
    if (caller.is_root()) {
        return {};
    }
    if (action == Action::Authenticate) {
        return {.auth = group_by_name(config_.auth_group), .admin = std::nullopt};
    }
    return {.auth = std::nullopt, .admin = group_by_name(config_.admin_group)};
}

[[noreturn]] void TokenService::refuse(const Caller& caller, const std::string& user,
                                       Action action) {
    log_.record(AuditEvent::AccessDenied,
                {.user = user,
                 .caller_uid = caller.uid,
                 .result = "refused",
                 .reason = action == Action::Authenticate ? "may not authenticate for this user"
                                                          : "may not manage this user's tokens"});
    const std::string group =
        action == Action::Authenticate ? config_.auth_group : config_.admin_group;
    throw ApiError(Error::AccessDenied, "uid " + std::to_string(caller.uid) +
                                            " may not act for user " + user +
                                            " (root and members of " + group + " may)");
}

// The user a call names, as NSS knows them now (no uid: no such user). Does
// not depend on who asks, so an authentication can look it up before the bus
// has said.
TokenService::Target TokenService::look_up_target(const std::string& user) {
    require_valid(store::user_name_problem(user));
    const auto entry = user_by_name(user);
    return entry ? Target{entry->name, entry->uid, false} : Target{user, std::nullopt, false};
}

// "" names the caller themself.
TokenService::Target TokenService::caller_as_target(const Caller& caller) {
    const auto self = user_by_uid(caller.uid);
    if (!self) {
        throw ApiError(Error::NoSuchUser,
                       "uid " + std::to_string(caller.uid) + " has no user name");
    }
    return {self->name, self->uid, caller.is_root()};
}

// Whether the caller may touch the target's tokens (AccessDenied, logged, if
// not). A caller who may not act for others learns nothing about whether a
// user exists: that is AccessDenied too.
void TokenService::authorize(const Caller& caller, Target& target, Action action, bool must_exist) {
    const PrivilegedGroups privileged = groups(caller, action);
    target.caller_acts_for_anyone = may_act_for_anyone(caller, action, privileged);
    if (!target.uid) {
        if (!target.caller_acts_for_anyone) {
            refuse(caller, target.name, action);
        }
        if (must_exist) {
            throw ApiError(Error::NoSuchUser, "no such user: " + target.name);
        }
        return;
    }
    if (!may_act(caller, *target.uid, action, privileged)) {
        refuse(caller, target.name, action);
    }
}

TokenService::Target TokenService::resolve_target(const Caller& caller, const std::string& user,
                                                  Action action, bool must_exist) {
    if (user.empty()) {
        return caller_as_target(caller);
    }
    Target target = look_up_target(user);
    authorize(caller, target, action, must_exist);
    return target;
}

// Everything that does not depend on who asks runs before the bus has said:
// the user and store lookups and the Argon2 verify overlap the round trip to
// the bus daemon (about a seventh of an authentication's latency, see
// bench/auth_bench). This gives a hostile caller nothing new: any local user
// may already make the daemon hash (their own tokens, the dummy hash of an
// unknown id), through the same bounded queue; and nothing is answered,
// logged or counted before caller_known() has authorized the caller, who
// then waits for the hash either way.
std::shared_ptr<TokenService::PendingAuth> TokenService::begin_authentication(AuthRequest request,
                                                                              AuthReply reply) {
    auto pending = std::make_shared<PendingAuth>();
    pending->requested_user = std::move(request.user);
    pending->service = std::move(request.service);
    pending->rhost = std::move(request.rhost);
    pending->token = std::move(request.token);
    pending->params = config_.hash;
    pending->reply = std::move(reply);
    try {
        if (!pending->service.empty()) {
            require_valid(store::service_name_problem(pending->service));
        }
        require_valid(store::rhost_problem(pending->rhost));
        if (!pending->requested_user.empty()) {
            pending->target = look_up_target(pending->requested_user);
        }
    } catch (const ApiError& error) {
        pending->invalid = error.failure();
        pending->token = store::SecretBuffer();
        return pending;
    }
    if (pending->target) {
        start_verification(pending);
    }
    return pending;
}

void TokenService::authenticate(const Caller& caller, AuthRequest request, AuthReply reply) {
    caller_known(begin_authentication(std::move(request), std::move(reply)), caller);
}

// Parses the token, looks it up and hands the hash to a worker: the real
// one, or the dummy when there is no usable token, so that every kind of
// wrong token costs the same time.
void TokenService::start_verification(const std::shared_ptr<PendingAuth>& pending) {
    PendingAuth& p = *pending;
    const auto id = store::parse_token(p.token.view());
    if (!id) {
        // Junk costs no hashing and no store access.
        p.malformed = true;
        p.token = store::SecretBuffer();
        return;
    }
    p.token_id = id->hex();
    try {
        p.record = store_.find(*id);
    } catch (const StoreError& error) {
        p.store_failure = failure_of(error, log_);
        p.token = store::SecretBuffer();
        return;
    }
    if (!p.target->uid) {
        p.decided = {Error::NoSuchUser, "no such user: " + p.target->name};
        p.decided_reason = "user does not exist";
        p.record.reset();
    } else if (!p.record || p.record->user != p.target->name) {
        p.decided = {Error::AuthenticationFailed, "authentication failed"};
        p.decided_reason = "no such token for this user (id " + id->hex() + ")";
        p.record.reset();
    }
    p.hash = p.record ? p.record->hash : dummy_hash_;
    verify_off_thread(pending);
}

void TokenService::caller_known(const std::shared_ptr<PendingAuth>& pending, const Caller& caller) {
    PendingAuth& p = *pending;
    p.caller = caller;
    if (p.invalid) {
        return answer(p, *p.invalid);
    }
    try {
        if (p.target) {
            authorize(caller, *p.target, Action::Authenticate, false);
        } else {
            p.target = caller_as_target(caller);
            start_verification(pending);
        }
    } catch (...) {
        return answer(p, failure_of_current_exception(log_));
    }
    p.throttle_rhost = p.target->caller_acts_for_anyone ? p.rhost : std::string();
    if (throttle_.blocked(p.source(), Throttle::Clock::now())) {
        // A throttled source learns nothing until its window has passed, not
        // even whether a token is right: that is what slows a guesser. The
        // real user from another source (host, caller) is not affected.
        return fail_authentication(p,
                                   {Error::TooManyAttempts, "too many failed attempts; try later"},
                                   "too many failed attempts from this source");
    }
    if (log_.debug_enabled()) {
        log_.debug("authenticate: caller uid " + std::to_string(caller.uid) + ", user " +
                   p.target->name + ", token id " + p.token_id + ", service " + p.service +
                   (p.record ? ": verifying" : ": no usable token, verifying a dummy hash"));
    }
    if (p.malformed) {
        throttle_.record_failure(p.source(), Throttle::Clock::now());
        return fail_authentication(p, {Error::AuthenticationFailed, "authentication failed"},
                                   "malformed token");
    }
    if (p.store_failure) {
        return answer(p, *p.store_failure);
    }
    if (p.work == PendingAuth::Work::Refused) {
        log_.record(AuditEvent::AuthFailed, {.user = p.target->name,
                                             .service = p.service,
                                             .rhost = p.rhost,
                                             .caller_uid = caller.uid,
                                             .result = "busy",
                                             .reason = "hashing queue full"});
        return answer(p, Failure{Error::Busy, "apitokend is busy; try again"});
    }
    if (p.work == PendingAuth::Work::Done) {
        finish_authentication(p);
    }
    // Else the worker is still hashing: verified() finishes it.
}

void TokenService::caller_unknown(const std::shared_ptr<PendingAuth>& pending,
                                  const Failure& failure) {
    const bool busy = failure.code == Error::Busy;
    log_.record(busy ? AuditEvent::AuthFailed : AuditEvent::AccessDenied,
                {.user = pending->requested_user,
                 .service = pending->service,
                 .rhost = pending->rhost,
                 .result = busy ? "busy" : "refused",
                 .reason = busy ? "the bus named the caller too late" : failure.message});
    answer(*pending, failure);
}

void TokenService::verify_off_thread(const std::shared_ptr<PendingAuth>& pending) {
    // The work step holds a plain pointer: `done` keeps the request (and the
    // bus message inside its reply) alive, and releases it on the loop thread.
    pending->work = PendingAuth::Work::Running;
    const bool queued = hashing_.try_submit(
        [p = pending.get()] {
            try {
                p->verified = store::verify_token(p->hash, p->token.view());
                if (p->verified && p->record && store::needs_rehash(p->hash, p->params)) {
                    p->rehashed = store::hash_token(p->token.view(), p->params);
                }
            } catch (const std::bad_alloc&) {
                p->out_of_memory = true;
            }
            p->token = store::SecretBuffer(); // wiped now, not when the reply is sent
        },
        [this, pending] { verified(*pending); });
    if (!queued) {
        pending->token = store::SecretBuffer();
        pending->work = PendingAuth::Work::Refused;
    }
}

// On the loop thread, once the worker is done.
void TokenService::verified(PendingAuth& p) {
    p.work = PendingAuth::Work::Done;
    // Not yet known (the bus is slow to say), or already refused.
    if (p.caller && !p.answered) {
        finish_authentication(p);
    }
}

void TokenService::answer(PendingAuth& p, const std::optional<Failure>& failure,
                          const std::string& id) {
    // A worker still hashing owns the token until it is done (and wipes it).
    if (p.work != PendingAuth::Work::Running) {
        p.token = store::SecretBuffer();
    }
    if (!p.answered) {
        p.answered = true;
        p.reply(failure, id);
    }
}

void TokenService::finish_authentication(PendingAuth& p) {
    if (log_.debug_enabled()) {
        log_.debug("authenticate: user " + p.user() + ": hash checked, " +
                   (p.verified ? "match" : "no match") + (p.rehashed ? ", re-hashed" : ""));
    }
    if (p.out_of_memory) {
        log_.error("out of memory while checking a token");
        return answer(p, Failure{Error::Failed, "out of memory"});
    }
    if (p.decided) {
        throttle_.record_failure(p.source(), Throttle::Clock::now());
        fail_authentication(p, *p.decided, p.decided_reason);
        return;
    }
    const store::TokenRecord& record = *p.record;
    const auto wrong = [&](std::string_view reason) {
        throttle_.record_failure(p.source(), Throttle::Clock::now());
        fail_authentication(p, {Error::AuthenticationFailed, "authentication failed"}, reason);
    };
    if (!p.verified) {
        return wrong("wrong secret");
    }
    std::optional<store::TokenRecord> current;
    try {
        current = store_.find(record.id);
    } catch (const StoreError& error) {
        return answer(p, failure_of(error, log_));
    }
    // Identity, not the hash: a concurrent check may have re-hashed the token.
    if (!current || current->user != record.user || current->uid != record.uid ||
        current->created != record.created) {
        // Not the caller's fault: no throttle failure.
        return fail_authentication(p, {Error::AuthenticationFailed, "authentication failed"},
                                   "token revoked while it was being checked");
    }
    if (const auto reason = rejection(record, p)) {
        return wrong(*reason);
    }
    accept_authentication(p);
}

// Why a token whose secret matched is still refused, if it is.
std::optional<std::string_view> TokenService::rejection(const store::TokenRecord& record,
                                                        const PendingAuth& p) {
    if (record.expired_at(now_seconds())) {
        return "token expired";
    }
    if (!record.services.empty() && std::find(record.services.begin(), record.services.end(),
                                              p.service) == record.services.end()) {
        return "token not allowed for this service";
    }
    if (record.uid != *p.target->uid) {
        return "the user's uid changed since the token was made";
    }
    return std::nullopt;
}

void TokenService::accept_authentication(PendingAuth& p) {
    const store::TokenRecord& record = *p.record;
    throttle_.record_success(p.source());
    queue_usage({record.id, now_seconds(), p.service, p.rhost});
    if (p.rehashed) {
        try {
            store_.replace_hash(record.id, record.hash, *p.rehashed);
        } catch (const StoreError& error) {
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
                                            .caller_uid = p.caller->uid,
                                            .result = "success"});
    answer(p, std::nullopt, id);
}

void TokenService::fail_authentication(PendingAuth& p, const Failure& failure,
                                       std::string_view reason) {
    const std::string id = p.record ? p.record->id.hex() : std::string();
    log_.record(AuditEvent::AuthFailed, {.user = p.user(),
                                         .token_id = id,
                                         .service = p.service,
                                         .rhost = p.rhost,
                                         .caller_uid = p.caller->uid,
                                         .result = "failure",
                                         .reason = reason});
    answer(p, failure);
}

std::optional<store::TimePoint> TokenService::expiry_for(std::int64_t requested,
                                                         store::TimePoint now) const {
    std::optional<store::TimePoint> expiry;
    if (requested == ipc::kExpiresDefault) {
        if (config_.default_lifetime) {
            expiry = now + *config_.default_lifetime;
        }
    } else if (requested == ipc::kExpiresNever) {
        expiry.reset();
    } else if (requested > kLatestExpiry) {
        throw ApiError(Error::InvalidArgument, "the expiry time is after the year 9999");
    } else if (requested > 0) {
        expiry = store::TimePoint{std::chrono::seconds{requested}};
        if (*expiry <= now) {
            throw ApiError(Error::InvalidArgument, "the expiry time is in the past");
        }
    } else {
        throw ApiError(Error::InvalidArgument, "invalid expiry time");
    }
    if (config_.max_lifetime && (!expiry || *expiry > now + *config_.max_lifetime)) {
        throw ApiError(Error::InvalidArgument, "tokens may live at most " +
                                                   describe(*config_.max_lifetime) +
                                                   " on this host (max_lifetime)");
    }
    return expiry;
}

void TokenService::precheck_create(const Target& target, const CreateRequest& request) {
    require_valid(store::token_name_problem(request.name));
    if (request.services.size() > store::kMaxServicesPerToken) {
        throw ApiError(Error::InvalidArgument, "a token may name at most 32 services");
    }
    for (const auto& service : request.services) {
        require_valid(store::service_name_problem(service));
    }
    // Refuse before spending a hash; the store checks again when it writes.
    const auto existing = store_.list(target.name);
    if (existing.size() >= config_.max_tokens_per_user) {
        throw ApiError(Error::TooManyTokens, "user " + target.name +
                                                 " already has the maximum of " +
                                                 std::to_string(config_.max_tokens_per_user) +
                                                 " tokens; revoke one first");
    }
    for (const auto& record : existing) {
        if (record.name == request.name) {
            throw ApiError(Error::DuplicateName, "user " + target.name +
                                                     " already has a token named \"" +
                                                     request.name + "\"");
        }
    }
}

void TokenService::create_token(const Caller& caller, const CreateRequest& request,
                                const CreateReply& reply) {
    auto token_request = std::make_shared<store::TokenRequest>();
    const auto now = now_seconds();
    try {
        const Target target = resolve_target(caller, request.user, Action::Manage, true);
        precheck_create(target, request);
        token_request->user = target.name;
        token_request->uid = *target.uid;
        token_request->name = request.name;
        token_request->expires = expiry_for(request.expires, now);
        token_request->services = request.services;
        std::sort(token_request->services.begin(), token_request->services.end());
        token_request->services.erase(
            std::unique(token_request->services.begin(), token_request->services.end()),
            token_request->services.end());
    } catch (const ApiError& error) {
        return reply(error.failure(), nullptr);
    } catch (const StoreError& error) {
        return reply(failure_of(error, log_), nullptr);
    }
    log_.debug("create: caller uid " + std::to_string(caller.uid) + ", user " +
               token_request->user + ", name \"" + token_request->name + "\": hashing");
    auto issued = std::make_shared<std::optional<store::IssuedToken>>();
    const auto params = config_.hash;
    const bool queued = hashing_.try_submit(
        [issued, token_request, params, now] {
            *issued = store::prepare_token(*token_request, params, now);
        },
        [this, issued, token_request, reply, caller] {
            if (!issued->has_value()) { // the work step ran out of memory
                log_.error("out of memory while creating a token");
                return reply(Failure{Error::Failed, "out of memory"}, nullptr);
            }
            try {
                store_created(*token_request, **issued);
            } catch (const StoreError& error) {
                return reply(failure_of(error, log_), nullptr);
            }
            const std::string id = (*issued)->record.id.hex();
            log_.record(AuditEvent::TokenCreated, {.user = token_request->user,
                                                   .token_id = id,
                                                   .caller_uid = caller.uid,
                                                   .result = "success",
                                                   .reason = token_request->name});
            reply(std::nullopt, &**issued);
            issued->reset(); // wipes the token text now
        });
    if (!queued) {
        reply(Failure{Error::Busy, "apitokend is busy; try again"}, nullptr);
    }
}

void TokenService::store_created(const store::TokenRequest& request, store::IssuedToken& issued) {
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

std::vector<store::TokenRecord> TokenService::list_tokens(const Caller& caller,
                                                          const std::string& user) {
    const Target target = resolve_target(caller, user, Action::Manage, false);
    return store_.list(target.name);
}

void TokenService::revoke_token(const Caller& caller, const std::string& user,
                                const std::string& id_text) {
    const Target target = resolve_target(caller, user, Action::Manage, false);
    const auto id = store::TokenId::from_hex(id_text);
    if (!id) {
        throw ApiError(Error::InvalidArgument, not_an_id(id_text));
    }
    store_.revoke(target.name, *id);
    log_.record(
        AuditEvent::TokenRevoked,
        {.user = target.name, .token_id = id_text, .caller_uid = caller.uid, .result = "success"});
}

std::uint64_t TokenService::revoke_all_tokens(const Caller& caller, const std::string& user) {
    const Target target = resolve_target(caller, user, Action::Manage, false);
    const std::size_t revoked = store_.revoke_all(target.name);
    log_.record(AuditEvent::TokenRevoked, {.user = target.name,
                                           .token_id = "*",
                                           .caller_uid = caller.uid,
                                           .result = "success",
                                           .reason = std::to_string(revoked) + " tokens"});
    return revoked;
}

void TokenService::rename_token(const Caller& caller, const std::string& user,
                                const std::string& id_text, const std::string& name) {
    const Target target = resolve_target(caller, user, Action::Manage, false);
    const auto id = store::TokenId::from_hex(id_text);
    if (!id) {
        throw ApiError(Error::InvalidArgument, not_an_id(id_text));
    }
    require_valid(store::token_name_problem(name));
    store_.rename(target.name, *id, name);
    log_.record(AuditEvent::TokenRenamed, {.user = target.name,
                                           .token_id = id_text,
                                           .caller_uid = caller.uid,
                                           .result = "success",
                                           .reason = name});
}

std::uint64_t TokenService::token_count(const Caller& caller) const {
    if (!may_act_for_anyone(caller, Action::Manage, groups(caller, Action::Manage))) {
        throw ApiError(Error::AccessDenied, "the number of all tokens is for root and members of " +
                                                config_.admin_group);
    }
    return store_.count();
}

std::int64_t TokenService::max_lifetime() const noexcept {
    return config_.max_lifetime ? config_.max_lifetime->count() : 0;
}

void TokenService::queue_usage(store::UsageEvent event) {
    pending_usage_.push_back(std::move(event));
    if (pending_usage_.size() >= kUsageBatchLimit) {
        flush_usage();
    }
}

void TokenService::flush_usage() {
    if (pending_usage_.empty()) {
        return;
    }
    log_.debug("writing " + std::to_string(pending_usage_.size()) + " usage records");
    try {
        store_.record_usage(pending_usage_);
        pending_usage_.clear();
    } catch (const StoreError& error) {
        log_.error(std::string("could not write usage statistics: ") + error.what());
        // Keep what fits; statistics are worth less than bounded memory.
        if (pending_usage_.size() > kUsageBatchLimit) {
            pending_usage_.erase(pending_usage_.begin(),
                                 pending_usage_.end() -
                                     static_cast<std::ptrdiff_t>(kUsageBatchLimit));
        }
    }
}

void TokenService::purge_expired() {
    try {
        const std::size_t purged = store_.purge_expired(now_seconds(), config_.expired_retention);
        if (purged > 0) {
            log_.info("deleted " + std::to_string(purged) + " tokens that expired more than " +
                      describe(config_.expired_retention) + " ago");
        }
    } catch (const StoreError& error) {
        log_.error(std::string("could not delete expired tokens: ") + error.what());
    }
}

} // namespace apitoken::daemon
