#pragma once

#include "bench/bench_world.hpp"
#include "bench/cpu_accounting.hpp"
#include "bench/load_runner.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace apitoken::bench {

// What is run against the world. RawVerify, BusPing, DirectPing and
// PamPermit are the physical limit; Success, WrongSecret and Malformed go
// through libpam, pam_apitoken.so (bus_only), the bus and apitokend, and
// DirectSuccess the same way over apitokend's direct socket instead of the
// bus. BusAuthenticate and DirectAuthenticate are the module's call without
// libpam: they split an authentication's time into what apitokend adds to a
// round trip and what the PAM side adds. LimitedSuccess is Success with a
// token that has a use limit (never reached), whose every use apitokend
// counts durably before answering; RawWrite is that durable write alone
// (TokenStore::consume_use).
enum class Load {
    RawVerify,
    BusPing,
    DirectPing,
    BusAuthenticate,
    DirectAuthenticate,
    PamPermit,
    RawWrite,
    Success,
    DirectSuccess,
    LimitedSuccess,
    WrongSecret,
    Malformed
};

[[nodiscard]] const char* load_name(Load load);

// apitokend's memory right after it started, and when its runs were done.
struct ScenarioMemory {
    DaemonMemory ready;
    DaemonMemory done;
};

// Every figure of a run of the benchmark, by store scenario ("1k", "1M",
// "1k interactive"), load and number of clients.
class Results {
public:
    // Merges into the figures of earlier runs of the same load and clients.
    void add(const std::string& scenario, Load load, const RunResult& result, const CpuUsage& cpu);
    void add_memory(const std::string& scenario, const ScenarioMemory& memory);

    // Throws std::out_of_range when that run was not made.
    [[nodiscard]] const RunResult& at(const std::string& scenario, Load load,
                                      std::size_t clients) const;
    [[nodiscard]] const ScenarioMemory& memory(const std::string& scenario) const;
    [[nodiscard]] std::size_t errors() const;

    // One line per scenario and load, one column group per client count.
    void print_table(const std::vector<std::size_t>& client_counts) const;
    // The same lines: CPU per call of each process, and the share of the
    // machine that other work took during the run.
    void print_cpu_table(const std::vector<std::size_t>& client_counts) const;
    // Two loads of `scenario` in the table's layout, one line each, and a
    // line of ratios (`other` / `base`) of each figure.
    void print_comparison(const std::string& scenario, Load base, Load other,
                          const std::vector<std::size_t>& client_counts) const;
    // The runs that had unexpected outcomes, with the outcome codes.
    void print_errors() const;
    // apitokend's memory in each scenario.
    void print_memory() const;

private:
    using Key = std::tuple<std::string, Load, std::size_t>;
    struct Run {
        RunResult result;
        CpuUsage cpu;
    };
    // One cell of a table: the run's figures, already formatted to width.
    using Cell = std::string (*)(const Run& run);

    void print_rows(const std::vector<std::size_t>& client_counts, Cell cell, int width) const;

    std::vector<std::pair<std::string, Load>> rows_; // in the order they were run
    std::map<Key, Run> runs_;
    std::map<std::string, ScenarioMemory> memory_;
};

// One figure next to its target.
struct TargetRow {
    std::string label;
    std::string figure;
    std::string target;
    bool met = false;
};

void print_targets(const std::vector<TargetRow>& rows);

// 1536 -> "1.5 MiB".
[[nodiscard]] std::string mib(long kib);

} // namespace apitoken::bench
