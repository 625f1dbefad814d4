#include "bench/load_runner.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

namespace apitoken::bench {
namespace {

// What one client thread saw in the window.
struct ClientTally {
    std::vector<double> latencies_us;
    std::map<int, std::size_t> unexpected;
};

struct Window {
    Clock::time_point start;
    Clock::time_point end;
};

double microseconds(Clock::duration elapsed) {
    return std::chrono::duration<double, std::micro>(elapsed).count();
}

// A call counts when it completes inside the window; calls still running
// when it closes are let finish (never cut off mid-call) but not counted.
void client_loop(std::size_t client, const Window& window, int expected, const Operation& op,
                 ClientTally& tally) {
    for (std::uint64_t sequence = 0;; ++sequence) {
        const auto begin = Clock::now();
        if (begin >= window.end) {
            return;
        }
        const int outcome = op(client, sequence);
        const auto done = Clock::now();
        if (done < window.start || done >= window.end) {
            continue;
        }
        tally.latencies_us.push_back(microseconds(done - begin));
        if (outcome != expected) {
            ++tally.unexpected[outcome];
        }
    }
}

// Nearest-rank percentile of sorted values: the smallest value that at
// least `fraction` of all values do not exceed (rank ceil(p*n), 1-based).
double percentile(const std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank =
        static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

RunResult tally_up(const std::vector<ClientTally>& tallies, const RunTiming& timing) {
    RunResult result;
    result.clients = tallies.size();
    result.seconds = std::chrono::duration<double>(timing.measure).count();
    for (const auto& tally : tallies) {
        result.latency_us.insert(result.latency_us.end(), tally.latencies_us.begin(),
                                 tally.latencies_us.end());
        for (const auto& [code, count] : tally.unexpected) {
            result.unexpected[code] += count;
        }
    }
    std::sort(result.latency_us.begin(), result.latency_us.end());
    result.calls = result.latency_us.size();
    return result;
}

void notify_at(Clock::time_point when, const std::function<void()>& hook) {
    std::this_thread::sleep_until(when);
    if (hook) {
        hook();
    }
}

} // namespace

double RunResult::per_second() const {
    return seconds > 0 ? static_cast<double>(calls) / seconds : 0;
}

double RunResult::p50_us() const {
    return percentile(latency_us, 0.50);
}

double RunResult::p99_us() const {
    return percentile(latency_us, 0.99);
}

void RunResult::merge(const RunResult& other) {
    clients = other.clients;
    calls += other.calls;
    seconds += other.seconds;
    const auto middle = static_cast<std::ptrdiff_t>(latency_us.size());
    latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
    std::inplace_merge(latency_us.begin(), latency_us.begin() + middle, latency_us.end());
    for (const auto& [code, count] : other.unexpected) {
        unexpected[code] += count;
    }
}

std::size_t RunResult::errors() const {
    return std::accumulate(unexpected.begin(), unexpected.end(), std::size_t{0},
                           [](std::size_t sum, const auto& entry) { return sum + entry.second; });
}

RunResult run_load(std::size_t clients, const RunTiming& timing, int expected, const Operation& op,
                   const WindowHooks& hooks) {
    std::vector<ClientTally> tallies(clients);
    const auto start = Clock::now() + timing.warmup;
    const Window window{start, start + timing.measure};
    {
        std::vector<std::jthread> threads;
        threads.reserve(clients);
        for (std::size_t client = 0; client < clients; ++client) {
            threads.emplace_back(
                [&, client] { client_loop(client, window, expected, op, tallies[client]); });
        }
        notify_at(window.start, hooks.opened);
        notify_at(window.end, hooks.closed);
    }
    return tally_up(tallies, timing);
}

} // namespace apitoken::bench
