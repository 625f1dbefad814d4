#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace apitoken::bench {

using Clock = std::chrono::steady_clock;

// How long one run lasts: a warm-up whose calls are neither timed nor
// counted (connections, page cache, the daemon's allocator), then the
// measured window.
struct RunTiming {
    Clock::duration warmup{};
    Clock::duration measure{};
};

// One call under test, made by client `client` (0-based) as its `sequence`th
// call. Returns an outcome code (a PAM return code, or 0 / -errno) that the
// runner compares with the one the run expects.
using Operation = std::function<int(std::size_t client, std::uint64_t sequence)>;

// What one or more runs measured: the calls that completed inside their
// windows. Runs of the same load are merged, so that a figure rests on
// windows spread over the whole benchmark rather than on one moment of a
// shared machine.
struct RunResult {
    std::size_t clients = 0;
    std::size_t calls = 0;
    double seconds = 0;             // total length of the windows
    std::vector<double> latency_us; // sorted
    // Outcomes other than the expected one, by code: a run that timed
    // refusals (Busy, throttled) would report a path authentication never takes.
    std::map<int, std::size_t> unexpected;

    [[nodiscard]] double per_second() const;
    [[nodiscard]] double p50_us() const;
    [[nodiscard]] double p99_us() const;
    [[nodiscard]] std::size_t errors() const;

    // Adds another run of the same load and number of clients.
    void merge(const RunResult& other);
};

// Called on the runner's own thread (not a client's) as the measured window
// opens and as it closes, to sample what else the window cost.
struct WindowHooks {
    std::function<void()> opened;
    std::function<void()> closed;
};

// Runs `op` in a closed loop on `clients` threads (each starts its next call
// when its previous one returns) for timing.warmup + timing.measure, and
// reports throughput and latency percentiles of the window.
RunResult run_load(std::size_t clients, const RunTiming& timing, int expected, const Operation& op,
                   const WindowHooks& hooks = {});

} // namespace apitoken::bench
