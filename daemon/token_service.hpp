#pragma once

#include "daemon/access_control.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/authentication.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "daemon/leaked_tokens.hpp"
#include "daemon/token_import.hpp"
#include "daemon/token_management.hpp"
#include "daemon/token_upkeep.hpp"
#include "daemon/usage_batch.hpp"
#include "store/token_store.hpp"

namespace apitoken::daemon {

// The daemon's logic, free of D-Bus, wired together: who may act for whom
// (AccessControl), checking tokens (Authenticator), managing them
// (TokenManager), answering leak scans (LeakedTokens), importing Jenkins
// tokens (TokenImporter), the usage statistics they share (UsageBatch)
// and the hourly clean-up (TokenUpkeep). The bus edge, the fuzzer and the tests use it through
// these parts.
class TokenService {
public:
    TokenService(const Config& config, store::TokenStore& store, const AuditLog& log,
                 HashRunner& hashing)
        : access_(config, log), usage_(store, log),
          authentication_(config, store, log, hashing, access_, usage_),
          management_(config, store, log, hashing, access_),
          leaks_(config, store, log, hashing, access_), imports_(config, store, log, access_),
          upkeep_(config, store, log) {}

    [[nodiscard]] Authenticator& authentication() noexcept { return authentication_; }
    [[nodiscard]] TokenManager& management() noexcept { return management_; }
    [[nodiscard]] LeakedTokens& leaks() noexcept { return leaks_; }
    [[nodiscard]] TokenImporter& imports() noexcept { return imports_; }
    [[nodiscard]] UsageBatch& usage() noexcept { return usage_; }
    [[nodiscard]] TokenUpkeep& upkeep() noexcept { return upkeep_; }

private:
    AccessControl access_;
    UsageBatch usage_;
    Authenticator authentication_;
    TokenManager management_;
    LeakedTokens leaks_;
    TokenImporter imports_;
    TokenUpkeep upkeep_;
};

} // namespace apitoken::daemon
