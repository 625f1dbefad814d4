#include "bench/bench_world.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace apitoken::bench {
namespace {

// The failure runs make thousands of failed attempts: each client moves to a
// new rhost every few hundred failures (see the load definitions), and this
// limit stays above that, so no run is throttled while the throttle still
// does its bookkeeping on every failure, as in production.
constexpr const char* kThrottleConfig = "throttle_max_failures = 1000\n";

// The direct socket is in the world's directory, never /run/apitoken (the
// harness also passes it as APITOKEN_SOCKET; the file says it too, so that
// the configuration read alone describes the bench's daemon).
std::string config_text(const store::HashParams& params,
                        const std::filesystem::path& direct_socket) {
    return std::string(kThrottleConfig) + "argon2_time_cost = " + std::to_string(params.opslimit) +
           "\nargon2_memory_kib = " + std::to_string(params.memlimit / 1024) +
           "\ndirect_socket = " + direct_socket.string() + "\n";
}

// "VmHWM:    1234 kB" -> 1234; -1 when the line is missing.
long status_field_kib(const std::string& status_text, const std::string& field) {
    const auto at = status_text.find("\n" + field + ":");
    if (at == std::string::npos) {
        return -1;
    }
    return std::strtol(status_text.c_str() + at + field.size() + 2, nullptr, 10);
}

} // namespace

BenchWorld::BenchWorld() {
    // The bus rows keep measuring the bus: the module tries the direct
    // socket first unless told not to.
    world_.write_pam_service(kApitokenService, "auth required " APITOKEN_PAM_MODULE " bus_only\n");
    world_.write_pam_service(kDirectService, "auth required " APITOKEN_PAM_MODULE "\n");
    world_.write_pam_service(kPermitService, "auth required " APITOKEN_PAM_PERMIT "\n");
    // libpam reads "other" at every pam_start, for the stacks a service
    // leaves out, and logs an error when it is missing; an empty one costs
    // both paths the least, and the same.
    world_.write_pam_service("other", "# nothing: the bench services define what they use\n");
    point_pam_here();
}

// pam_wrapper reads its service directory at each pam_start and sd-bus the
// bus address at each connection, so the environment of this process is
// where they go; no client thread runs yet.
void BenchWorld::point_pam_here() const {
    world_.use_pam_environment_here();
    // The module and ipc::Client find the bench daemon's direct socket here.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded here
    ::setenv("APITOKEN_SOCKET", world_.direct_socket().c_str(), 1);
    // The harness's level 2 prints every pam_syslog line: a benchmark would
    // time its own terminal.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded here
    ::setenv("PAM_WRAPPER_DEBUGLEVEL", "0", 1);
}

DaemonStart BenchWorld::start_daemon(std::size_t tokens, const store::HashParams& params,
                                     const std::vector<const RealToken*>& real) {
    stop_daemon();
    DaemonStart start;
    start.fill = fill_state_dir(world_.state_dir(), tokens, real, params, world_.daemon_user.uid);
    world_.set_config(config_text(params, world_.direct_socket()));
    const auto begin = std::chrono::steady_clock::now();
    world_.start_daemon();
    running_ = true;
    start.ready_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return start;
}

void BenchWorld::stop_daemon() {
    if (running_ && world_.stop_daemon() != 0) {
        throw std::runtime_error("apitokend did not stop cleanly:\n" + world_.daemon_log());
    }
    running_ = false;
}

int BenchWorld::without_bus(const std::function<int()>& call) const {
    // Puts the bus back however `call` ends.
    struct Restore {
        std::string address;
        explicit Restore(std::string bus) : address(std::move(bus)) {}
        Restore(const Restore&) = delete;
        Restore& operator=(const Restore&) = delete;
        Restore(Restore&&) = delete;
        Restore& operator=(Restore&&) = delete;
        // NOLINTNEXTLINE(concurrency-mt-unsafe): no client thread runs
        ~Restore() { ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1); }
    } restore{world_.bus_address()};
    const std::string nowhere = "unix:path=" + (world_.dir() / "no-bus-here").string();
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no client thread runs
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", nowhere.c_str(), 1);
    return call();
}

DaemonMemory BenchWorld::daemon_memory() const {
    std::ifstream in("/proc/" + std::to_string(world_.daemon_pid()) + "/status");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {status_field_kib(text, "VmHWM"), status_field_kib(text, "RssAnon"),
            status_field_kib(text, "RssFile")};
}

} // namespace apitoken::bench
