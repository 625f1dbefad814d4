#pragma once

#include "daemon/access_control.hpp"
#include "daemon/api_error.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/caller_lookup.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "daemon/replica_gate.hpp"
#include "daemon/throttle.hpp"
#include "daemon/usage_batch.hpp"
#include "store/secret_buffer.hpp"
#include "store/token_store.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {

struct AuthRequest {
    std::string user; // "" = the caller
    store::SecretBuffer token;
    std::string service;
    std::string rhost;
    // Who asks, as the PAM module in a service reports it (PAM_RUSER, and
    // the real uid of the process it runs in); counted only from callers who
    // act for anyone.
    std::string ruser;
    std::int64_t requester_uid = -1; // -1: not said
};

// Checking one token: the pipeline behind Authenticate. Joins two answers
// that arrive in either order — who the caller is (CallerLookup) and what
// the Argon2id verify says (HashRunner) — because the checks that do not
// depend on the caller (user and store lookups, the hash) overlap the round
// trip that names the caller. Nothing is answered, logged or counted before
// the caller is known and authorized. Single-threaded: everything here runs
// on the event loop's thread; only the verify runs elsewhere.
class Authenticator {
public:
    // Runs once per authenticate(): no failure and the token id on success,
    // else why not.
    using Reply = std::function<void(const std::optional<Failure>&, const std::string& token_id)>;

    Authenticator(const Config& config, store::TokenStore& store, const AuditLog& log,
                  HashRunner& hashing, const AccessControl& access, UsageBatch& usage);

    // The one call per request: `reply` runs exactly once, now or later on
    // the loop thread (never, only if the daemon stops first).
    void authenticate(AuthRequest request, CallerLookup& caller, Reply reply);

    [[nodiscard]] const Throttle& throttle() const noexcept { return throttle_; }
    // Fleet mode: token logins fail (Busy: PAM_AUTHINFO_UNAVAIL) while the
    // gate says the replica cannot be trusted; nullptr: no gate.
    void set_replica_gate(const ReplicaGate* gate) noexcept { gate_ = gate; }

private:
    struct Pending;
    using PendingPtr = std::shared_ptr<Pending>;

    [[nodiscard]] PendingPtr prepare(AuthRequest request, Reply reply);
    void start_check(Pending& p);
    void start_imported_check(Pending& p);
    void start_early_hash(const PendingPtr& pending);
    [[nodiscard]] bool start_verify(const PendingPtr& pending, const std::optional<HashLane>& lane);
    void identified(const PendingPtr& pending, const Identity& who);
    void caller_known(const PendingPtr& pending, const Caller& caller);
    void caller_unknown(Pending& p, const Failure& failure);
    void hashed(Pending& p);
    static void take_hash_result(Pending& p);
    void finish(Pending& p);
    void conclude(Pending& p, const Failure& failure, std::string_view reason);
    [[nodiscard]] std::optional<std::string> rejection(const store::TokenRecord& record,
                                                       const Pending& p) const;
    // A use of a token with a use limit, waiting to be written (with the
    // others whose hashes finished together) before success is answered.
    struct DurableUse {
        PendingPtr pending;
        store::TokenRecord record;
        store::UsageEvent use;
        std::optional<std::string> new_source;
    };
    void count_durably(Pending& p, const store::TokenRecord& record, store::UsageEvent use,
                       const std::optional<std::string>& new_source);
    void commit_durable_uses();
    void succeed(Pending& p, const store::TokenRecord& record,
                 const std::optional<std::string>& new_source);
    // `new_source`: the (trusted) rhost of a source not seen lately.
    void note_use(const Pending& p, const store::TokenRecord& record,
                  const std::optional<std::string>& new_source);
    void accept(Pending& p, const store::TokenRecord& record);
    void fail(Pending& p, const Failure& failure, std::string_view reason);
    static void answer(Pending& p, const std::optional<Failure>& failure,
                       const std::string& id = {});

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    HashRunner& hashing_;
    const AccessControl& access_;
    UsageBatch& usage_;
    Throttle throttle_;
    std::vector<DurableUse> durable_uses_; // waiting for one commit
    std::string host_name_;                // for tokens limited to some hosts
    const ReplicaGate* gate_ = nullptr;
    std::string dummy_hash_; // verified against when there is no real hash, so
                             // unknown ids and users cost the same time
};

} // namespace apitoken::daemon
