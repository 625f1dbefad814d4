#pragma once

#include "daemon/audit_log.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"

#include <cstddef>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::daemon {

// Usage statistics (use count, last use, service, rhost) wait here and are
// written in one transaction per batch: no synchronous disk write on an
// authentication's path. The daemon's timer and shutdown flush it.
class UsageBatch {
public:
    // Beyond this many waiting records they are written at once (a burst of
    // logins must not grow memory).
    static constexpr std::size_t kLimit = 4096;

    UsageBatch(store::TokenStore& store, const AuditLog& log) : store_(store), log_(log) {}

    void add(store::UsageEvent event);
    void flush();
    // Fleet mode: told of every use once it is on disk (here, or counted
    // durably by the authenticator through note_written).
    using Observer = std::function<void(std::span<const store::UsageEvent>)>;
    void set_observer(Observer observer) { observer_ = std::move(observer); }
    void note_written(std::span<const store::UsageEvent> uses) const {
        if (observer_ && !uses.empty()) {
            observer_(uses);
        }
    }
    [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }
    // Whether a use of `id` from (`rhost`, `service`) waits here: one the
    // store's recent sources do not show yet.
    [[nodiscard]] bool has_pending_use(const store::TokenId& id, std::string_view rhost,
                                       std::string_view service) const noexcept;

private:
    store::TokenStore& store_;
    const AuditLog& log_;
    [[nodiscard]] static std::string source_key(const store::TokenId& id, std::string_view rhost,
                                                std::string_view service);
    void forget_sources_but_pending();

    std::vector<store::UsageEvent> pending_;
    // (id, rhost, service) of pending_, so that asking is not a walk over
    // up to kLimit records on every authentication.
    std::set<std::string, std::less<>> pending_sources_;
    Observer observer_;
};

} // namespace apitoken::daemon
