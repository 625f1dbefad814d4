#pragma once

#include "daemon/access_control.hpp"
#include "daemon/api_error.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/call_budget.hpp"
#include "daemon/caller.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "store/secret_buffer.hpp"
#include "store/token_store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {

// LookupTokens' answer for one id: user and name only where the caller
// may see them (`visible`); anyone else's id answers as "unknown", like an
// id that never existed.
struct LeakLookup {
    std::string id;
    const char* state = ipc::token_state::kUnknown;
    bool visible = false;
    std::string user{};
    std::string name{};
};

// What a leak scanner asks: the state of token ids (without the secret),
// and the revocation of whole tokens found leaked, where possession of the
// secret is the proof (as GitHub's credential-revocation API): the
// Argon2id verify runs in the caller's hashing lane, and a wrong, unknown,
// malformed or dead token is left out of the answer exactly alike, after
// the same work. Both are paid from a budget per caller (root and admins
// excepted), refused whole before any work when it is spent.
// Single-threaded: the event loop's thread; only verifies run elsewhere.
class LeakedTokens {
public:
    // Ids looked up, and tokens verified, per caller per kBudgetPeriod.
    static constexpr std::size_t kLookupBudget = 16384;
    static constexpr std::size_t kVerifyBudget = 256;
    static constexpr std::chrono::seconds kBudgetPeriod{600};

    // The ids revoked, or why the call failed (the tokens revoked before a
    // failure stay revoked, and logged).
    using RevokeReply =
        std::function<void(const std::optional<Failure>&, const std::vector<std::string>& ids)>;

    LeakedTokens(const Config& config, store::TokenStore& store, const AuditLog& log,
                 HashRunner& hashing, const AccessControl& access);

    // At most ipc::kMaxLookupIds ids (InvalidArgument); TooManyAttempts
    // when the caller's budget is spent.
    [[nodiscard]] std::vector<LeakLookup> look_up(const Caller& caller,
                                                  const std::vector<std::string>& ids);
    // At most ipc::kMaxLeakedTokens tokens. `reply` runs exactly once, now
    // (a refusal) or later on the loop thread.
    void revoke(const Caller& caller, std::vector<store::SecretBuffer> tokens, RevokeReply reply);

private:
    struct Revocation;
    using RevocationPtr = std::shared_ptr<Revocation>;

    // The account a caller's own tokens belong to (nullopt: the caller has
    // no user name, so no tokens), and whether they see everyone's.
    struct Viewer {
        std::optional<Target> self;
        bool sees_everyone = false;
        [[nodiscard]] bool sees(const std::string& user, uid_t uid) const;
    };
    [[nodiscard]] Viewer viewer_of(const Caller& caller) const;
    void pay(const Caller& caller, bool sees_everyone, CallBudget& budget, std::size_t cost,
             const char* what);
    [[nodiscard]] LeakLookup look_up_one(const Viewer& viewer, const std::string& id_text,
                                         store::TimePoint now) const;

    void verify_next(const RevocationPtr& revocation);
    void verified(Revocation& revocation, const std::optional<store::TokenRecord>& record,
                  bool matched);

    store::TokenStore& store_;
    const AuditLog& log_;
    HashRunner& hashing_;
    const AccessControl& access_;
    CallBudget lookups_;
    CallBudget verifies_;
    std::string dummy_hash_; // verified against when there is no live token: the same work
};

} // namespace apitoken::daemon
