#pragma once

#include "bench/auth_report.hpp"
#include "bench/load_runner.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace apitoken::bench {

// --only: one load against one store for a long time, so that a profiler can
// watch it (perf record -g -p <the apitokend pid printed at start>).
struct SingleRun {
    Load load = Load::Success;
    std::size_t clients = 1;
    std::size_t tokens = 1'000;
    bool interactive = false;
    std::chrono::seconds duration{10};
};

struct BenchConfig {
    std::size_t small_store = 1'000;
    std::size_t large_store = 1'000'000;
    std::vector<std::size_t> clients{1, 4, 16};
    // Each load is run this many times, round robin with the others, and
    // its figures are those of all its windows together.
    int rounds = 3;
    RunTiming timing{std::chrono::milliseconds(300), std::chrono::seconds(1)};
    // INTERACTIVE hashing makes a call ~1000 times slower: a longer window
    // keeps the percentiles from resting on a handful of calls.
    RunTiming slow_timing{std::chrono::milliseconds(500), std::chrono::milliseconds(1500)};
    std::optional<SingleRun> single;
};

// nullopt after printing help or a usage error; `exit_code` says which
// (0 or 2).
std::optional<BenchConfig> parse_arguments(int argc, char** argv, int& exit_code);

} // namespace apitoken::bench
