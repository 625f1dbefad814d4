#pragma once

#include "bench/echo_service.hpp"
#include "bench/store_fill.hpp"
#include "store/token_hash.hpp"
#include "tests/integration/test_world.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace apitoken::bench {

// PAM services of the world: the module under test alone, and pam_permit
// alone (what libpam and pam_wrapper cost by themselves).
inline constexpr const char* kApitokenService = "bench-apitoken";
inline constexpr const char* kPermitService = "bench-permit";

// apitokend's memory, from /proc/PID/status.
struct DaemonMemory {
    long peak_kib = 0; // VmHWM
    long anon_kib = 0; // RssAnon now
    long file_kib = 0; // RssFile now (LMDB's map is file-backed)
};

// How a daemon start went.
struct DaemonStart {
    FillReport fill;
    double ready_seconds = 0; // exec to READY=1
};

// The integration tests' world (private dbus-daemon with the real policy,
// apitokend as an unprivileged user, nss_wrapper users, pam_wrapper service
// files), with this process set up as the PAM application. Needs root and a
// process started with libpam_wrapper.so preloaded.
class BenchWorld {
public:
    BenchWorld();

    // Stops any running daemon, replaces the store by one of `tokens` tokens
    // hashed with `params` (the `real` ones among them), configures
    // apitokend to hash with `params`, and starts it.
    DaemonStart start_daemon(std::size_t tokens, const store::HashParams& params,
                             const std::vector<const RealToken*>& real);
    void stop_daemon();
    [[nodiscard]] DaemonMemory daemon_memory() const;
    [[nodiscard]] std::string daemon_log() const { return world_.daemon_log(); }
    [[nodiscard]] pid_t daemon_pid() const { return world_.daemon_pid(); }
    // The user whose token authenticates: known to the daemon through NSS.
    [[nodiscard]] const testing::TestUser& user() const { return world_.alice; }

private:
    void point_pam_here() const;

    testing::TestWorld world_;
    EchoService echo_{world_.bus_address()};
    bool running_ = false;
};

} // namespace apitoken::bench
