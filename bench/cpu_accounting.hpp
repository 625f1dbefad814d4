#pragma once

#include <chrono>

namespace apitoken::bench {

// CPU time used so far, from /proc: by this process (the clients), by its
// children dbus-daemon and apitokend, and by the whole machine. Two samples
// say where a run's CPU went, and how much other work on this shared
// machine took from it.
struct CpuSample {
    std::chrono::steady_clock::time_point when;
    double client_s = 0;
    double bus_s = 0;
    double daemon_s = 0;
    double machine_busy_s = 0; // all CPUs, everything but idle and iowait
};

[[nodiscard]] CpuSample sample_cpu();

// CPU time spent in one or more windows: by each of our processes, and by
// everything else on the machine.
struct CpuUsage {
    double client_s = 0;
    double bus_s = 0;
    double daemon_s = 0;
    double foreign_s = 0;
    double capacity_s = 0; // length of the windows times the number of CPUs

    void add(const CpuUsage& other);
    // The share of all CPUs that other work took, 0..1.
    [[nodiscard]] double foreign_share() const;
};

[[nodiscard]] CpuUsage usage_between(const CpuSample& before, const CpuSample& after);

} // namespace apitoken::bench
