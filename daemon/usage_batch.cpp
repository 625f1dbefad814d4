#include "daemon/usage_batch.hpp"

#include "store/store_error.hpp"

#include <algorithm>
#include <new>
#include <string>

namespace apitoken::daemon {

std::string UsageBatch::source_key(const store::TokenId& id, std::string_view rhost,
                                   std::string_view service) {
    std::string key = id.hex();
    key += '\0';
    key += rhost;
    key += '\0';
    key += service;
    return key;
}

void UsageBatch::forget_sources_but_pending() {
    pending_sources_.clear();
    for (const auto& use : pending_) {
        pending_sources_.insert(source_key(use.id, use.rhost, use.service));
    }
}

void UsageBatch::add(store::UsageEvent event) {
    pending_sources_.insert(source_key(event.id, event.rhost, event.service));
    pending_.push_back(std::move(event));
    if (pending_.size() >= kLimit) {
        flush();
    }
}

bool UsageBatch::has_pending_use(const store::TokenId& id, std::string_view rhost,
                                 std::string_view service) const noexcept {
    try {
        return pending_sources_.contains(source_key(id, rhost, service));
    } catch (const std::bad_alloc&) {
        return false; // then "new source" may be logged twice: no harm
    }
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
        pending_sources_.clear();
    } catch (const store::StoreError& error) {
        log_.error(std::string("could not write usage statistics: ") + error.what());
        // Keep what fits; statistics are worth less than bounded memory.
        if (pending_.size() > kLimit) {
            pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(kLimit));
            forget_sources_but_pending();
        }
    }
}

} // namespace apitoken::daemon
