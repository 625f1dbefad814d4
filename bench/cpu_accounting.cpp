#include "bench/cpu_accounting.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::bench {
namespace {

double clock_ticks_per_second() {
    return static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The fields of /proc/PID/stat after the command name (which may contain
// spaces, hence the search for the last ')'); field 3 (state) comes first.
std::vector<std::string> stat_fields(const std::string& line) {
    std::vector<std::string> fields;
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return fields;
    }
    std::istringstream in(line.substr(close + 1));
    for (std::string field; in >> field;) {
        fields.push_back(field);
    }
    return fields;
}

struct ProcessTimes {
    std::string name;
    long parent = 0;
    double cpu_s = 0; // utime + stime, all threads
};

bool read_process(const std::filesystem::path& dir, ProcessTimes& out) {
    std::ifstream in(dir / "stat");
    std::string line;
    if (!std::getline(in, line)) {
        return false;
    }
    const auto fields = stat_fields(line);
    constexpr std::size_t kParent = 1; // field 4
    constexpr std::size_t kUtime = 11; // field 14
    constexpr std::size_t kStime = 12; // field 15
    if (fields.size() <= kStime) {
        return false;
    }
    const auto open = line.find('(');
    out.name = line.substr(open + 1, line.rfind(')') - open - 1);
    out.parent = std::stol(fields[kParent]);
    out.cpu_s = (std::stod(fields[kUtime]) + std::stod(fields[kStime])) / clock_ticks_per_second();
    return true;
}

// Adds the CPU time of this process and of its children by name: the
// harness starts dbus-daemon directly and apitokend through setpriv, which
// execs it, so both are children of this process.
void add_process_tree(CpuSample& sample) {
    const long self = ::getpid();
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string pid = entry.path().filename().string();
        ProcessTimes times;
        if (!std::all_of(pid.begin(), pid.end(), ::isdigit) || !read_process(entry, times)) {
            continue;
        }
        if (std::stol(pid) == self) {
            sample.client_s += times.cpu_s;
        } else if (times.parent == self && times.name == "dbus-daemon") {
            sample.bus_s += times.cpu_s;
        } else if (times.parent == self && times.name == "apitokend") {
            sample.daemon_s += times.cpu_s;
        }
    }
}

// /proc/stat's first line: cpu user nice system idle iowait irq softirq steal.
double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string label;
    double user = 0;
    double nice = 0;
    double system = 0;
    double idle = 0;
    double iowait = 0;
    double irq = 0;
    double softirq = 0;
    double steal = 0;
    in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return (user + nice + system + irq + softirq + steal) / clock_ticks_per_second();
}

} // namespace

CpuSample sample_cpu() {
    CpuSample sample;
    sample.when = std::chrono::steady_clock::now();
    sample.machine_busy_s = machine_busy_seconds();
    add_process_tree(sample);
    return sample;
}

CpuUsage usage_between(const CpuSample& before, const CpuSample& after) {
    CpuUsage usage;
    usage.client_s = after.client_s - before.client_s;
    usage.bus_s = after.bus_s - before.bus_s;
    usage.daemon_s = after.daemon_s - before.daemon_s;
    const double ours = usage.client_s + usage.bus_s + usage.daemon_s;
    usage.foreign_s = std::max(0.0, (after.machine_busy_s - before.machine_busy_s) - ours);
    const double elapsed = std::chrono::duration<double>(after.when - before.when).count();
    usage.capacity_s = elapsed * std::max(1U, std::thread::hardware_concurrency());
    return usage;
}

void CpuUsage::add(const CpuUsage& other) {
    client_s += other.client_s;
    bus_s += other.bus_s;
    daemon_s += other.daemon_s;
    foreign_s += other.foreign_s;
    capacity_s += other.capacity_s;
}

double CpuUsage::foreign_share() const {
    return capacity_s > 0 ? std::min(1.0, foreign_s / capacity_s) : 0;
}

} // namespace apitoken::bench
