#pragma once

#include "bench/direct_peer.hpp"
#include "bench/echo_service.hpp"
#include "bench/store_fill.hpp"
#include "store/token_hash.hpp"
#include "tests/integration/test_world.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace apitoken::bench {

// PAM services of the world: the module under test alone, over the bus
// (bus_only) or as configured by default (the direct socket first), and
// pam_permit alone (what libpam and pam_wrapper cost by themselves).
inline constexpr const char* kApitokenService = "bench-apitoken";
inline constexpr const char* kDirectService = "bench-direct";
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
    // The raw direct ping's peer, in the world's directory.
    [[nodiscard]] std::string direct_peer_address() const { return peer_.address(); }
    // `call`'s outcome with the system bus out of reach, so that a client
    // that would fall back to it fails instead: proof that it went direct.
    // Only while no client thread runs (it changes the environment).
    int without_bus(const std::function<int()>& call) const;

private:
    void point_pam_here() const;

    testing::TestWorld world_;
    EchoService echo_{world_.bus_address()};
    DirectPeer peer_{world_.dir() / "peer-socket"};
    bool running_ = false;
};

} // namespace apitoken::bench
