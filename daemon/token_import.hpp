#pragma once

#include "daemon/access_control.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/caller.hpp"
#include "daemon/config.hpp"
#include "store/token_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace apitoken::daemon {

// One token of ImportTokens (ipc/bus_api.hpp): a Jenkins API token as
// apitokenctl import-jenkins read it from JENKINS_HOME.
struct ForeignToken {
    std::string origin_id;    // the Jenkins uuid
    std::string name;         // Jenkins' name (made unique, or replaced, if need be)
    std::string jenkins_hash; // 64 lowercase hex: SHA-256 of the token's 32 hex characters
    std::int64_t created = 0; // Unix seconds; 0: not known (the import's time)
    std::int64_t expires = 0; // 0: never
    std::int64_t last_used = 0;
    std::uint64_t use_count = 0;
    std::vector<std::string> services{};
};

// Importing Jenkins API tokens for a user: root and admins only, all of a
// call's tokens or none, each Jenkins token at most once ever (the store
// remembers what it imported, so a second run brings back nothing that was
// revoked). The policy applies as to new tokens: services as for create,
// and the maximum lifetime caps an expiry (counted from the import).
// Throws ApiError or StoreError on refusal.
class TokenImporter {
public:
    TokenImporter(const Config& config, store::TokenStore& store, const AuditLog& log,
                  const AccessControl& access)
        : config_(config), store_(store), log_(log), access_(access) {}

    std::vector<store::ImportOutcome> import_tokens(const Caller& caller, const std::string& user,
                                                    const std::vector<ForeignToken>& tokens,
                                                    bool dry_run);

private:
    [[nodiscard]] store::TokenRecord record_of(const Caller& caller, const Target& target,
                                               const ForeignToken& token,
                                               store::TimePoint now) const;

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    const AccessControl& access_;
};

} // namespace apitoken::daemon
