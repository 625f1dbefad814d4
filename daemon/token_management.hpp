#pragma once

#include "daemon/access_control.hpp"
#include "daemon/api_error.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/caller.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "store/token_issuer.hpp"
#include "store/token_store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {

struct CreateRequest {
    std::string user; // "" = the caller
    std::string name;
    std::int64_t expires = 0; // ipc::kExpiresDefault / kExpiresNever / Unix time
    std::vector<std::string> services{};
    // CreateTokenEx's fields (design.md "Token policy").
    std::string description{};
    std::vector<std::string> sources{}; // CIDRs
    std::uint64_t max_uses = 0;         // 0: unlimited
    std::vector<std::string> hosts{};
};

// What UpdateToken changes; nullopt: stays as it is.
struct TokenChanges {
    std::optional<std::string> name{};
    std::optional<std::string> description{};
    std::optional<std::vector<std::string>> services{};
    std::optional<std::vector<std::string>> sources{};
    std::optional<std::vector<std::string>> hosts{};
    std::optional<std::int64_t> expires{}; // ipc::kExpiresNever / Unix time
};

struct RotateRequest {
    std::string user; // "" = the caller
    std::string id;
    std::int64_t grace = 0;                // seconds the old token keeps working
    std::optional<std::int64_t> expires{}; // nullopt: as long as the old one lived
};

// Which tokens a list or a bulk revocation is about.
struct TokenFilter {
    bool all_users = false; // every user's tokens: root and admins only
    std::optional<std::vector<std::string>> ids{};
    std::optional<std::int64_t> expiring_within{}; // seconds
    std::optional<std::int64_t> unused_for{};      // seconds
    bool expired = false;
};

// A token as listed: orphaned when its owner's account has another uid now
// (deleted and made again) or is gone. Such a token belongs to nobody.
struct ListedToken {
    store::TokenRecord record;
    bool orphaned = false;
    // Fleet mode: the host of the last use; the record's usage fields are
    // then the fleet's (the sum of every host's uses, as last heard).
    std::string last_host{};
};

// Creating, listing, changing, rotating and revoking tokens, for a caller
// already known, under the config's policy (token_policy.hpp). Runs on the
// loop thread; creation and rotation hash through the HashRunner.
//
// A user's own calls act on the tokens of their account as it is now: the
// tokens of an account deleted and made again with another uid (orphans)
// are not theirs to see, count, rename or revoke; root and admins see and
// clean them up.
class TokenManager {
public:
    // Runs once per create_token()/rotate_token(): the new token, or why not.
    using CreateReply =
        std::function<void(const std::optional<Failure>&, const store::IssuedToken*)>;

    TokenManager(const Config& config, store::TokenStore& store, const AuditLog& log,
                 HashRunner& hashing, const AccessControl& access)
        : config_(config), store_(store), log_(log), hashing_(hashing), access_(access) {}

    void create_token(const Caller& caller, const CreateRequest& request, const CreateReply& reply);
    void rotate_token(const Caller& caller, const RotateRequest& request, const CreateReply& reply);

    // These answer at once and throw ApiError (or StoreError, which the bus
    // edge maps with failure_of) on refusal.
    // The user's tokens (every user's, with all_users), oldest first;
    // orphaned ones only for callers who act for anyone.
    [[nodiscard]] std::vector<ListedToken>
    list_tokens(const Caller& caller, const std::string& user, const TokenFilter& filter = {});
    void revoke_token(const Caller& caller, const std::string& user, const std::string& id);
    std::uint64_t revoke_all_tokens(const Caller& caller, const std::string& user);
    // What the filter selects (at least one of ids, unused_for, expired);
    // with `dry_run` nothing is revoked. Returns the ids.
    std::vector<std::string> revoke_tokens(const Caller& caller, const std::string& user,
                                           const TokenFilter& filter, bool dry_run);
    void rename_token(const Caller& caller, const std::string& user, const std::string& id,
                      const std::string& name);
    // Returns the record as it is now.
    store::TokenRecord update_token(const Caller& caller, const std::string& user,
                                    const std::string& id, const TokenChanges& changes);
    // All users' tokens: root and the admin group only (AccessDenied otherwise).
    [[nodiscard]] std::uint64_t token_count(const Caller& caller) const;
    // Whether the caller is root or in the admin group.
    [[nodiscard]] bool is_admin(const Caller& caller) const {
        return access_.acts_for_everyone(caller);
    }
    // Seconds; 0 = unlimited.
    [[nodiscard]] std::int64_t max_lifetime() const noexcept;
    // Within the config's expiry_warning.
    [[nodiscard]] bool expiring_soon(const store::TokenRecord& record) const;

private:
    void purge_orphans(const Target& target);
    void precheck_create(const Target& target, const std::string& name);
    [[nodiscard]] store::TokenRequest
    token_request(const Caller& caller, const CreateRequest& request, store::TimePoint now);
    // Hashes a new token off the loop thread, then stores it with `save`.
    using StoreStep = std::function<void(store::IssuedToken&)>;
    void issue(const Caller& caller, const std::shared_ptr<const store::TokenRequest>& wanted,
               store::TimePoint now, StoreStep save, AuditEvent event, const CreateReply& reply);
    void store_created(const store::TokenRequest& request, store::IssuedToken& issued);
    [[nodiscard]] store::TokenRequest successor_of(const Caller& caller,
                                                   const store::TokenRecord& old,
                                                   const RotateRequest& request,
                                                   store::TimePoint now) const;
    [[nodiscard]] store::TokenRecord owned_token(const Target& target, const std::string& id) const;
    [[nodiscard]] store::TokenUpdate checked_update(const store::TokenRecord& record,
                                                    const TokenChanges& changes,
                                                    store::TimePoint now,
                                                    bool caller_is_admin) const;
    [[nodiscard]] std::vector<ListedToken> visible_tokens(const Target& target) const;
    // `here`: this host's fleet name (for this host's own last use).
    void with_fleet_usage(ListedToken& token, const std::string& here) const;

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    HashRunner& hashing_;
    const AccessControl& access_;
};

} // namespace apitoken::daemon
