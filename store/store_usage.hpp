#pragma once

#include "store/token_record.hpp"

namespace apitoken::store {

// Counts one use in `record`: use_count, the last use (unless a later one
// is known already: batches may arrive out of order) and the recent
// sources, which keep the last kMaxRecentSources distinct (rhost, service)
// pairs, most recently used first, each with its first and last use and a
// count; the least recently used pair drops out.
void apply_use(TokenRecord& record, const UsageEvent& use);

} // namespace apitoken::store
