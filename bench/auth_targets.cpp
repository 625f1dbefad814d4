#include "bench/auth_targets.hpp"

#include "bench/durable_write.hpp"
#include "store/token_hash.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

namespace apitoken::bench {
namespace {

// The targets, for this 2-core machine at default settings.
constexpr double kMinSuccessPerSecond = 2'000; // with kHeadlineClients
constexpr std::size_t kHeadlineClients = 4;
constexpr double kMaxSingleClientP50Ms = 1.0;
constexpr double kMaxLatencyRatio = 1.5;
constexpr double kMinScaleRatio = 0.9;
constexpr long kBaseRssKib = 64L * 1024; // plus the hashing memory of the pool
// Ours: at the INTERACTIVE level the hash is ~99 % of a call, so with the
// CPUs busy apitokend should authenticate as fast as raw hashing on as many
// threads goes, within 10 %. (With one client the two differ by the noise of
// a memory-bound 64 MiB hash on a shared machine: 70-100 ms from one run to
// the next for the very same raw verify.)
constexpr double kMinHashBoundRatio = 0.9;
// Issue 18, the direct socket, as ratios to figures of the same run: its
// e2e p50 against its own physical limit, its rate and p50 against the bus
// path's, and what apitokend itself adds to a direct round trip.
constexpr double kMaxDirectLatencyRatio = 1.3;
constexpr double kMinDirectRateRatio = 1.6; // with kHeadlineClients
constexpr double kMaxDirectP50Ratio = 0.6;
constexpr double kMaxDirectDaemonShareUs = 100;

std::string fixed(double value, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << value;
    return out.str();
}

TargetRow at_least(std::string label, double figure, double wanted, const std::string& unit,
                   int precision) {
    return {std::move(label), fixed(figure, precision) + unit,
            ">= " + fixed(wanted, precision) + unit, figure >= wanted};
}

TargetRow at_most(std::string label, double figure, double wanted, const std::string& unit,
                  int precision) {
    return {std::move(label), fixed(figure, precision) + unit,
            "<= " + fixed(wanted, precision) + unit, figure <= wanted};
}

// Peak RSS against 64 MiB plus what the workers hash in at once.
TargetRow rss_row(std::string label, const ScenarioMemory& memory,
                  const store::HashParams& params) {
    const long limit =
        kBaseRssKib + static_cast<long>(default_hash_workers() * (params.memlimit / 1024));
    const long peak = memory.done.peak_kib;
    return {std::move(label), mib(peak), "<= " + mib(limit), peak <= limit};
}

// e2e p50 over the sum of what it cannot avoid, all with one client: on
// the bus (Success, BusPing) or the direct socket (DirectSuccess, DirectPing).
double latency_ratio(const Results& results, const std::string& scenario, Load e2e, Load ping) {
    const double limit = results.at(scenario, Load::PamPermit, 1).p50_us() +
                         results.at(scenario, Load::RawVerify, 1).p50_us() +
                         results.at(scenario, ping, 1).p50_us();
    return results.at(scenario, e2e, 1).p50_us() / limit;
}

// What apitokend adds to a direct round trip besides the hash (1 client,
// p50): direct authenticate - raw direct ping - raw verify.
double direct_daemon_share_us(const Results& results, const std::string& scenario) {
    const auto p50 = [&](Load load) { return results.at(scenario, load, 1).p50_us(); };
    return p50(Load::DirectAuthenticate) - p50(Load::DirectPing) - p50(Load::RawVerify);
}

std::vector<TargetRow> direct_targets(const Results& results, const std::string& small) {
    const std::size_t n = kHeadlineClients;
    const auto rate = [&](Load load) { return results.at(small, load, n).per_second(); };
    const auto p50 = [&](Load load) { return results.at(small, load, 1).p50_us(); };
    return {
        at_most("direct: p50 e2e / (pam_permit + verify + ping)",
                latency_ratio(results, small, Load::DirectSuccess, Load::DirectPing),
                kMaxDirectLatencyRatio, "", 2),
        at_least("direct / bus success auth/s, " + std::to_string(n) + " clients",
                 rate(Load::DirectSuccess) / rate(Load::Success), kMinDirectRateRatio, "", 2),
        at_most("direct / bus success p50, 1 client", p50(Load::DirectSuccess) / p50(Load::Success),
                kMaxDirectP50Ratio, "", 2),
        at_most("direct: apitokend's share (auth - ping - verify)",
                direct_daemon_share_us(results, small), kMaxDirectDaemonShareUs, " us", 0),
    };
}

} // namespace

unsigned default_hash_workers() {
    return std::max(1U, std::thread::hardware_concurrency());
}

std::vector<TargetRow> targets(const Results& results, const ScenarioNames& names) {
    const std::size_t n = kHeadlineClients;
    const std::string n_clients = std::to_string(n) + " clients";
    const auto rate = [&](const std::string& scenario, Load load, std::size_t clients) {
        return results.at(scenario, load, clients).per_second();
    };
    const auto p50 = [&](Load load) { return results.at(names.small, load, 1).p50_us(); };
    const std::string& small = names.small;
    std::vector<TargetRow> rows{
        at_least("success auth/s, " + n_clients + ", " + small, rate(small, Load::Success, n),
                 kMinSuccessPerSecond, " /s", 0),
        at_most("success p50, 1 client, " + small, p50(Load::Success) / 1000, kMaxSingleClientP50Ms,
                " ms", 3),
        at_most("p50 e2e / (pam_permit + verify + bus ping)",
                latency_ratio(results, small, Load::Success, Load::BusPing), kMaxLatencyRatio, "",
                2),
        at_least("success auth/s " + names.large + " / " + small + ", " + n_clients,
                 rate(names.large, Load::Success, n) / rate(small, Load::Success, n),
                 kMinScaleRatio, "", 3),
        at_most("malformed p50 / success p50, 1 client, " + small,
                p50(Load::Malformed) / p50(Load::Success), 1.0, "", 2),
        at_least("malformed auth/s / success auth/s, " + n_clients,
                 rate(small, Load::Malformed, n) / rate(small, Load::Success, n), 1.0, "", 2),
        rss_row("apitokend peak RSS, " + names.large + " tokens", results.memory(names.large),
                store::HashParams::defaults()),
        at_least("interactive: success / raw verify auth/s, " + n_clients,
                 rate(names.interactive, Load::Success, n) /
                     rate(names.interactive, Load::RawVerify, n),
                 kMinHashBoundRatio, "", 3),
        rss_row("interactive: apitokend peak RSS", results.memory(names.interactive),
                store::HashParams::interactive()),
    };
    const auto direct = direct_targets(results, small);
    rows.insert(rows.end(), direct.begin(), direct.end());
    return rows;
}

void print_latency_parts(const Results& results, const std::string& scenario) {
    const auto p50 = [&](Load load) { return results.at(scenario, load, 1).p50_us(); };
    const auto us = [](double value) { return fixed(value, 0) + " us"; };
    std::cout << "latency, 1 client, " << scenario << ": e2e p50 " << us(p50(Load::Success))
              << " vs pam_permit " << us(p50(Load::PamPermit)) << " + raw verify "
              << us(p50(Load::RawVerify)) << " + raw bus ping " << us(p50(Load::BusPing)) << "\n"
              << "  of which apitokend adds to a bus round trip "
              << us(p50(Load::BusAuthenticate) - p50(Load::BusPing))
              << " (bus authenticate - raw bus ping), and libpam with the module "
              << us(p50(Load::Success) - p50(Load::BusAuthenticate))
              << " (success - bus authenticate)\n"
              << "direct socket, 1 client, " << scenario << ": e2e p50 "
              << us(p50(Load::DirectSuccess)) << " vs pam_permit " << us(p50(Load::PamPermit))
              << " + raw verify " << us(p50(Load::RawVerify)) << " + raw direct ping "
              << us(p50(Load::DirectPing)) << "\n"
              << "  of which apitokend's own share "
              << us(direct_daemon_share_us(results, scenario))
              << " (direct authenticate - raw direct ping - raw verify), and libpam with the "
                 "module "
              << us(p50(Load::DirectSuccess) - p50(Load::DirectAuthenticate))
              << " (direct success - direct authenticate)\n";
}

void print_use_limit_cost(const Results& results, const std::string& scenario,
                          const std::vector<std::size_t>& client_counts) {
    const auto us = [](double value) { return fixed(value, 0) + " us"; };
    const RunResult& unlimited = results.at(scenario, Load::Success, 1);
    const RunResult& limited = results.at(scenario, Load::LimitedSuccess, 1);
    const RunResult& write = results.at(scenario, Load::RawWrite, 1);
    const double extra = limited.p50_us() - unlimited.p50_us();
    std::cout << "use limit, " << scenario
              << ": limited success is success with a token whose max_uses is "
              << kNeverReachedUseLimit << " (never reached);\n"
              << "a one-time token (max_uses 1) takes this path, and pays its write, for its one "
                 "use only\n";
    results.print_comparison(scenario, Load::Success, Load::LimitedSuccess, client_counts);
    std::cout << "  what a limit costs: one fsync'ed LMDB write transaction per use "
                 "(TokenStore::consume_use,\n"
              << "  the use on disk before success is answered): " << (extra >= 0 ? "+" : "")
              << us(extra) << " at p50 with 1 client;\n"
              << "  that write alone (raw durable write) takes " << us(write.p50_us()) << " p50, "
              << us(write.p99_us()) << " p99;\n"
              << "  apitokend makes these writes one at a time on its event loop, which waits "
                 "for each\n"
              << "  (other calls wait too), so a limited token's rate follows one writer's "
                 "(raw durable\n"
              << "  write, 1 client: " << fixed(write.per_second(), 0)
              << "/s); unlimited tokens are counted in batches, off their path\n";
}

} // namespace apitoken::bench
