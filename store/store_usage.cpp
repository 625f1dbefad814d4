// Usage: what a successful authentication leaves in a record, in batches
// (record_usage) or at once for a token with a use limit (consume_use).
#include "store/store_usage.hpp"

#include "store/store_impl.hpp"
#include "store/token_store.hpp"

#include <algorithm>

namespace apitoken::store {
namespace {

using lmdb::Txn;

void note_source(std::vector<RecentSource>& sources, const UsageEvent& use) {
    const auto same = std::find_if(sources.begin(), sources.end(), [&](const RecentSource& s) {
        return s.rhost == use.rhost && s.service == use.service;
    });
    if (same != sources.end()) {
        same->count += 1;
        same->first_used = std::min(same->first_used, use.when);
        same->last_used = std::max(same->last_used, use.when);
    } else {
        // In front, so that it wins a tie on last_used in the sort below.
        sources.insert(sources.begin(),
                       RecentSource{use.rhost, use.service, use.when, use.when, 1});
    }
    std::stable_sort(
        sources.begin(), sources.end(),
        [](const RecentSource& a, const RecentSource& b) { return a.last_used > b.last_used; });
    if (sources.size() > kMaxRecentSources) {
        sources.resize(kMaxRecentSources);
    }
}

} // namespace

void apply_use(TokenRecord& record, const UsageEvent& use) {
    record.use_count += 1;
    if (!record.last_used || *record.last_used <= use.when) {
        record.last_used = use.when;
        record.last_service = use.service;
        record.last_rhost = use.rhost;
    }
    note_source(record.recent_sources, use);
}

std::size_t TokenStore::record_usage(std::span<const UsageEvent> events) {
    return impl_->write([&](Txn& txn) {
        std::size_t applied = 0;
        for (const auto& event : events) {
            const auto before = impl_->read(txn, event.id);
            if (!before) {
                continue;
            }
            TokenRecord after = *before;
            apply_use(after, event);
            impl_->replace(txn, *before, after);
            ++applied;
        }
        return applied;
    });
}

// LMDB syncs on commit (the environment is opened without MDB_NOSYNC), so
// a Counted use is on disk when this returns: a kill -9 right after cannot
// give the use back. Refusing writes nothing, and a refused use is not
// counted.
UseVerdict TokenStore::consume_use(const UsageEvent& use) {
    return consume_uses({&use, 1}).front();
}

std::vector<UseVerdict> TokenStore::consume_uses(std::span<const UsageEvent> uses) {
    return impl_->write([&](Txn& txn) {
        std::vector<UseVerdict> verdicts;
        verdicts.reserve(uses.size());
        for (const auto& use : uses) {
            // Read in this transaction: a second use of the same token
            // sees the first one's count.
            const auto before = impl_->read(txn, use.id);
            if (!before) {
                verdicts.push_back(UseVerdict::Gone);
            } else if (before->limited() && before->use_count >= before->max_uses) {
                verdicts.push_back(UseVerdict::Exhausted);
            } else {
                TokenRecord after = *before;
                apply_use(after, use);
                impl_->replace(txn, *before, after);
                verdicts.push_back(UseVerdict::Counted);
            }
        }
        return verdicts;
    });
}

} // namespace apitoken::store
