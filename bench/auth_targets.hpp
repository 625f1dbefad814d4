#pragma once

#include "bench/auth_report.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace apitoken::bench {

// Hash workers apitokend runs at its default (workers = 0): one per CPU.
[[nodiscard]] unsigned default_hash_workers();

// The store scenarios the targets compare.
struct ScenarioNames {
    std::string small;       // default hashing, the small store (with the limits)
    std::string large;       // default hashing, the large store
    std::string interactive; // INTERACTIVE hashing, the small store
};

// The issues' targets for this 2-core machine, each with its figure from
// `results`, plus two of ours for the INTERACTIVE level.
[[nodiscard]] std::vector<TargetRow> targets(const Results& results, const ScenarioNames& names);

// "e2e p50 ... vs pam_permit ... + raw verify ... + raw bus ping ...", then
// the same over the direct socket, with apitokend's share of each.
void print_latency_parts(const Results& results, const std::string& scenario);

// The use-limited token's figures next to the unlimited one's, their ratio,
// and what the difference is: one durable write per use (raw durable write).
void print_use_limit_cost(const Results& results, const std::string& scenario,
                          const std::vector<std::size_t>& client_counts);

} // namespace apitoken::bench
