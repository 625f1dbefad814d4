#include "bench/auth_report.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace apitoken::bench {
namespace {

constexpr int kScenarioWidth = 16;
constexpr int kLoadWidth = 20;
constexpr int kRateWidth = 8;
constexpr int kLatencyWidth = 9;
constexpr int kGroupWidth = kRateWidth + 2 * kLatencyWidth;
constexpr int kCpuWidth = 24;
constexpr int kOtherWidth = 6;

std::string whole(double value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(0) << value;
    return out.str();
}

std::string one_decimal(double value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << value;
    return out.str();
}

} // namespace

std::string mib(long kib) {
    return one_decimal(static_cast<double>(kib) / 1024) + " MiB";
}

namespace {

std::string clients_label(std::size_t clients) {
    return std::to_string(clients) + (clients == 1 ? " client" : " clients");
}

void print_group_titles(const std::vector<std::size_t>& client_counts, int width) {
    std::cout << std::left << std::setw(kScenarioWidth + kLoadWidth) << "" << std::right;
    for (const auto clients : client_counts) {
        std::cout << std::setw(width) << clients_label(clients) + "   ";
    }
    std::cout << '\n'
              << std::left << std::setw(kScenarioWidth) << "store" << std::setw(kLoadWidth)
              << "load" << std::right;
}

std::string rate_cell(const RunResult& run) {
    std::ostringstream out;
    out << std::setw(kRateWidth) << whole(run.per_second()) << std::setw(kLatencyWidth)
        << whole(run.p50_us()) << std::setw(kLatencyWidth) << whole(run.p99_us());
    return out.str();
}

std::string ratio(double other, double base) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << (base > 0 ? other / base : 0);
    return out.str();
}

std::string ratio_cell(const RunResult& other, const RunResult& base) {
    std::ostringstream out;
    out << std::setw(kRateWidth) << ratio(other.per_second(), base.per_second())
        << std::setw(kLatencyWidth) << ratio(other.p50_us(), base.p50_us())
        << std::setw(kLatencyWidth) << ratio(other.p99_us(), base.p99_us());
    return out.str();
}

std::string cpu_cell(const CpuUsage& cpu, std::size_t calls) {
    const double us_per_call = calls == 0 ? 0 : 1e6 / static_cast<double>(calls);
    const auto per_call = [&](double seconds) { return whole(seconds * us_per_call); };
    std::ostringstream out;
    out << std::setw(kCpuWidth - kOtherWidth)
        << per_call(cpu.client_s) + "/" + per_call(cpu.bus_s) + "/" + per_call(cpu.daemon_s)
        << std::setw(kOtherWidth) << whole(cpu.foreign_share() * 100) + "%";
    return out.str();
}

} // namespace

const char* load_name(Load load) {
    switch (load) {
    case Load::RawVerify: return "raw verify";
    case Load::BusPing: return "raw bus ping";
    case Load::DirectPing: return "raw direct ping";
    case Load::BusAuthenticate: return "bus authenticate";
    case Load::DirectAuthenticate: return "direct authenticate";
    case Load::PamPermit: return "pam_permit";
    case Load::RawWrite: return "raw durable write";
    case Load::Success: return "success";
    case Load::DirectSuccess: return "direct success";
    case Load::LimitedSuccess: return "limited success";
    case Load::WrongSecret: return "wrong secret";
    case Load::Malformed: return "malformed";
    }
    return "?";
}

void Results::add(const std::string& scenario, Load load, const RunResult& result,
                  const CpuUsage& cpu) {
    const std::pair<std::string, Load> row{scenario, load};
    if (std::find(rows_.begin(), rows_.end(), row) == rows_.end()) {
        rows_.push_back(row);
    }
    Run& run = runs_[Key{scenario, load, result.clients}];
    run.result.merge(result);
    run.cpu.add(cpu);
}

void Results::add_memory(const std::string& scenario, const ScenarioMemory& memory) {
    memory_[scenario] = memory;
}

const RunResult& Results::at(const std::string& scenario, Load load, std::size_t clients) const {
    return runs_.at(Key{scenario, load, clients}).result;
}

const ScenarioMemory& Results::memory(const std::string& scenario) const {
    return memory_.at(scenario);
}

std::size_t Results::errors() const {
    std::size_t total = 0;
    for (const auto& [key, run] : runs_) {
        total += run.result.errors();
    }
    return total;
}

void Results::print_rows(const std::vector<std::size_t>& client_counts, Cell cell,
                         int width) const {
    for (const auto& [scenario, load] : rows_) {
        std::cout << std::left << std::setw(kScenarioWidth) << scenario << std::setw(kLoadWidth)
                  << load_name(load) << std::right;
        std::size_t errors = 0;
        for (const auto clients : client_counts) {
            const auto found = runs_.find(Key{scenario, load, clients});
            if (found == runs_.end()) {
                std::cout << std::setw(width) << "-";
                continue;
            }
            std::cout << cell(found->second);
            errors += found->second.result.errors();
        }
        std::cout << std::setw(kRateWidth) << errors << '\n';
    }
}

void Results::print_table(const std::vector<std::size_t>& client_counts) const {
    print_group_titles(client_counts, kGroupWidth);
    for (std::size_t i = 0; i < client_counts.size(); ++i) {
        std::cout << std::setw(kRateWidth) << "/s" << std::setw(kLatencyWidth) << "p50 us"
                  << std::setw(kLatencyWidth) << "p99 us";
    }
    std::cout << std::setw(kRateWidth) << "errors" << '\n';
    print_rows(
        client_counts, [](const Run& run) { return rate_cell(run.result); }, kGroupWidth);
}

void Results::print_cpu_table(const std::vector<std::size_t>& client_counts) const {
    std::cout << "CPU per call in us (this process / dbus-daemon / apitokend), and the share of\n"
                 "all CPUs that other work on the machine took meanwhile:\n";
    print_group_titles(client_counts, kCpuWidth);
    for (std::size_t i = 0; i < client_counts.size(); ++i) {
        std::cout << std::setw(kCpuWidth - kOtherWidth) << "us/call" << std::setw(kOtherWidth)
                  << "other";
    }
    std::cout << std::setw(kRateWidth) << "errors" << '\n';
    print_rows(
        client_counts, [](const Run& run) { return cpu_cell(run.cpu, run.result.calls); },
        kCpuWidth);
}

void Results::print_comparison(const std::string& scenario, Load base, Load other,
                               const std::vector<std::size_t>& client_counts) const {
    print_group_titles(client_counts, kGroupWidth);
    for (std::size_t i = 0; i < client_counts.size(); ++i) {
        std::cout << std::setw(kRateWidth) << "/s" << std::setw(kLatencyWidth) << "p50 us"
                  << std::setw(kLatencyWidth) << "p99 us";
    }
    std::cout << '\n';
    for (const Load load : {base, other}) {
        std::cout << std::left << std::setw(kScenarioWidth) << scenario << std::setw(kLoadWidth)
                  << load_name(load) << std::right;
        for (const auto clients : client_counts) {
            const auto found = runs_.find(Key{scenario, load, clients});
            std::cout << (found == runs_.end() ? std::string(kGroupWidth, ' ')
                                               : rate_cell(found->second.result));
        }
        std::cout << '\n';
    }
    std::cout << std::left << std::setw(kScenarioWidth + kLoadWidth)
              << "ratio (" + std::string(load_name(other)) + " / " + load_name(base) + ")"
              << std::right;
    for (const auto clients : client_counts) {
        const auto found_base = runs_.find(Key{scenario, base, clients});
        const auto found_other = runs_.find(Key{scenario, other, clients});
        std::cout << (found_base == runs_.end() || found_other == runs_.end()
                          ? std::string(kGroupWidth, ' ')
                          : ratio_cell(found_other->second.result, found_base->second.result));
    }
    std::cout << '\n';
}

void Results::print_errors() const {
    for (const auto& [key, run] : runs_) {
        for (const auto& [code, count] : run.result.unexpected) {
            const auto& [scenario, load, clients] = key;
            std::cout << "unexpected outcome: " << scenario << ", " << load_name(load) << ", "
                      << clients_label(clients) << ": " << count << " x code " << code
                      << " (PAM return code, -errno for the raw pings, 2 for a direct\n"
                         "  authenticate that fell back to the bus)\n";
        }
    }
}

void Results::print_memory() const {
    for (const auto& [scenario, memory] : memory_) {
        std::cout << "apitokend memory, " << std::left << std::setw(kScenarioWidth) << scenario
                  << std::right << "peak (VmHWM) " << mib(memory.done.peak_kib) << "; when ready "
                  << mib(memory.ready.anon_kib) << " anonymous + " << mib(memory.ready.file_kib)
                  << " file-backed; at the end " << mib(memory.done.anon_kib) << " + "
                  << mib(memory.done.file_kib) << '\n';
    }
}

void print_targets(const std::vector<TargetRow>& rows) {
    constexpr int kLabelWidth = 52;
    constexpr int kFigureWidth = 24;
    constexpr int kTargetWidth = 22;
    std::cout << std::left << std::setw(kLabelWidth) << "target" << std::setw(kFigureWidth)
              << "figure" << std::setw(kTargetWidth) << "wanted"
              << "result\n";
    std::size_t missed = 0;
    for (const auto& row : rows) {
        std::cout << std::setw(kLabelWidth) << row.label << std::setw(kFigureWidth) << row.figure
                  << std::setw(kTargetWidth) << row.target << (row.met ? "ok" : "MISSED") << '\n';
        missed += row.met ? 0 : 1;
    }
    if (missed == 0) {
        std::cout << "summary: all " << rows.size() << " targets met\n";
    } else {
        std::cout << "summary: " << missed << " of " << rows.size() << " targets MISSED\n";
    }
}

} // namespace apitoken::bench
