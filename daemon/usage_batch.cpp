#include "daemon/usage_batch.hpp"

#include "store/store_error.hpp"

#include <algorithm>
#include <string>

namespace apitoken::daemon {

void UsageBatch::add(store::UsageEvent event) {
    pending_.push_back(std::move(event));
    if (pending_.size() >= kLimit) {
        flush();
    }
}

bool UsageBatch::has_pending_use(const store::TokenId& id, std::string_view rhost,
                                 std::string_view service) const noexcept {
    return std::any_of(pending_.begin(), pending_.end(), [&](const store::UsageEvent& use) {
        return use.id == id && use.rhost == rhost && use.service == service;
    });
}

void UsageBatch::flush() {
    if (pending_.empty()) {
        return;
    }
    log_.debug("writing " + std::to_string(pending_.size()) + " usage records");
    try {
        store_.record_usage(pending_);
        note_written(pending_);
        pending_.clear();
    } catch (const store::StoreError& error) {
        log_.error(std::string("could not write usage statistics: ") + error.what());
        // Keep what fits; statistics are worth less than bounded memory.
        if (pending_.size() > kLimit) {
            pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(kLimit));
        }
    }
}

} // namespace apitoken::daemon
