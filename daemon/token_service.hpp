#pragma once

#include "daemon/api_error.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/authorization.hpp"
#include "daemon/caller.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "daemon/throttle.hpp"
#include "daemon/user_directory.hpp"
#include "store/secret_buffer.hpp"
#include "store/store_error.hpp"
#include "store/token_issuer.hpp"
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
};

struct CreateRequest {
    std::string user; // "" = the caller
    std::string name;
    std::int64_t expires = 0; // ipc::kExpiresDefault / kExpiresNever / Unix time
    std::vector<std::string> services;
};

// The daemon's logic, free of D-Bus: who may do what (authorization),
// checking tokens (throttle, parse, look up, verify off-thread, expiry,
// scope, owner still the same), managing them, and usage statistics.
// Single-threaded: every call and every reply happens on the event loop's
// thread; only the Argon2 work runs elsewhere, through the HashRunner.
class TokenService {
public:
    // Called exactly once per authenticate(): no failure and the token id on
    // success, else why not.
    using AuthReply = std::function<void(const std::optional<Failure>&, const std::string&)>;
    using CreateReply =
        std::function<void(const std::optional<Failure>&, const store::IssuedToken*)>;

    // An authentication in flight.
    struct PendingAuth;

    TokenService(const Config& config, store::TokenStore& store, const AuditLog& log,
                 HashRunner& hashing);

    // Authentication in two steps, because the bus says who the caller is
    // only after a round trip: begin_authentication() does what does not
    // depend on the caller (and may throw UserDirectoryError, before anything
    // is under way); then exactly one of caller_known() and caller_unknown()
    // must follow. `reply` runs once, after the caller is known.
    [[nodiscard]] std::shared_ptr<PendingAuth> begin_authentication(AuthRequest request,
                                                                    AuthReply reply);
    void caller_known(const std::shared_ptr<PendingAuth>& pending, const Caller& caller);
    void caller_unknown(const std::shared_ptr<PendingAuth>& pending, const Failure& failure);
    // Both steps at once, for a caller already known.
    void authenticate(const Caller& caller, AuthRequest request, AuthReply reply);
    void create_token(const Caller& caller, const CreateRequest& request, const CreateReply& reply);

    // These answer at once and throw ApiError (or StoreError, which the bus
    // edge maps with failure_of) on refusal.
    [[nodiscard]] std::vector<store::TokenRecord> list_tokens(const Caller& caller,
                                                              const std::string& user);
    void revoke_token(const Caller& caller, const std::string& user, const std::string& id);
    std::uint64_t revoke_all_tokens(const Caller& caller, const std::string& user);
    void rename_token(const Caller& caller, const std::string& user, const std::string& id,
                      const std::string& name);
    // All users' tokens: root and the admin group only (AccessDenied otherwise).
    [[nodiscard]] std::uint64_t token_count(const Caller& caller) const;
    // Seconds; 0 = unlimited.
    [[nodiscard]] std::int64_t max_lifetime() const noexcept;

    // Writes queued usage statistics (the daemon's timer and shutdown call it).
    void flush_usage();
    // Deletes tokens expired longer ago than expired_retention.
    void purge_expired();
    [[nodiscard]] std::size_t pending_usage() const noexcept { return pending_usage_.size(); }

private:
    struct Target {
        std::string name;
        std::optional<uid_t> uid;            // nullopt: the user does not exist (any more)
        bool caller_acts_for_anyone = false; // root, or in the group for this action
    };

    [[nodiscard]] PrivilegedGroups groups(const Caller& caller, Action action) const;
    [[nodiscard]] static Target look_up_target(const std::string& user);
    [[nodiscard]] static Target caller_as_target(const Caller& caller);
    void authorize(const Caller& caller, Target& target, Action action, bool must_exist);
    Target resolve_target(const Caller& caller, const std::string& user, Action action,
                          bool must_exist);
    void start_verification(const std::shared_ptr<PendingAuth>& pending);
    void verify_off_thread(const std::shared_ptr<PendingAuth>& pending);
    void verified(PendingAuth& pending);
    static void answer(PendingAuth& pending, const std::optional<Failure>& failure,
                       const std::string& id = {});
    void finish_authentication(PendingAuth& pending);
    [[nodiscard]] static std::optional<std::string_view> rejection(const store::TokenRecord& record,
                                                                   const PendingAuth& pending);
    void accept_authentication(PendingAuth& pending);
    void fail_authentication(PendingAuth& pending, const Failure& failure, std::string_view reason);
    [[nodiscard]] std::optional<store::TimePoint> expiry_for(std::int64_t requested,
                                                             store::TimePoint now) const;
    void precheck_create(const Target& target, const CreateRequest& request);
    void store_created(const store::TokenRequest& request, store::IssuedToken& issued);
    void queue_usage(store::UsageEvent event);
    [[noreturn]] void refuse(const Caller& caller, const std::string& user, Action action);

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    HashRunner& hashing_;
    Throttle throttle_;
    std::string dummy_hash_; // verified against when there is no real hash, so
                             // unknown ids and users cost the same time
    std::vector<store::UsageEvent> pending_usage_;
};

// The one place where store errors become API errors. Details that only the
// admin should see (paths, LMDB errors) are logged, not returned.
[[nodiscard]] Failure failure_of(const store::StoreError& error, const AuditLog& log);
// The same for whatever a call threw (to be called inside a catch block):
// refusals as they are, anything unexpected logged and reported as Failed.
[[nodiscard]] Failure failure_of_current_exception(const AuditLog& log);

} // namespace apitoken::daemon
