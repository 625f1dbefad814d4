#include "daemon/daemon.hpp"

#include "daemon/audit_log.hpp"
#include "daemon/bus_object.hpp"
#include "daemon/config.hpp"
#include "daemon/direct_listener.hpp"
#include "daemon/fleet_replica.hpp"
#include "daemon/hash_worker_pool.hpp"
#include "daemon/token_service.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/sd_handles.hpp"
#include "store/store_error.hpp"
#include "store/token_store.hpp"

#include <sys/prctl.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace apitoken::daemon {
namespace {

using namespace std::chrono_literals;

constexpr auto kPurgeInterval = std::chrono::hours{1};

using EventLoop = ipc::EventPtr;
using Bus = ipc::ServerBusPtr;
using EventSource = ipc::EventSourcePtr;

// A failure to start, with the message for the admin and the exit code.
class StartupError : public std::runtime_error {
public:
    StartupError(const std::string& message, int code = kExitFailure)
        : std::runtime_error(message), code_(code) {}
    [[nodiscard]] int code() const noexcept { return code_; }

private:
    int code_;
};

void check(int r, const std::string& what) {
    if (r < 0) {
        throw StartupError(what + ": " + std::generic_category().message(-r));
    }
}

unsigned worker_count(const Config& config) {
    return config.workers != 0 ? config.workers : std::max(1U, std::thread::hardware_concurrency());
}

// Signals must be blocked before any thread starts, so only the event loop
// (through signalfd) ever sees them.
void block_stop_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    // Before any thread exists, so the process-wide call is the right one.
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) { // NOLINT(concurrency-mt-unsafe)
        throw StartupError("cannot block signals");
    }
}

Config load(const DaemonOptions& options) {
    try {
        Config config = load_config(options.config_path, options.config_given);
        config.debug = config.debug || options.debug;
        return config;
    } catch (const ConfigError& error) {
        throw StartupError(std::string("configuration error: ") + error.what(), kExitConfig);
    }
}

store::StoreOptions store_options(const Config& config, const DaemonOptions& options) {
    store::StoreOptions out;
    if (options.state_dir) {
        out.state_dir = *options.state_dir;
    }
    out.max_tokens_per_user = config.max_tokens_per_user;
    out.max_map_size = config.max_store_size;
    out.initial_map_size = std::min(out.initial_map_size, out.max_map_size);
    return out;
}

Bus connect_and_claim_name() {
    sd_bus* raw = nullptr;
    int r = sd_bus_open_system(&raw);
    Bus bus(raw);
    check(r, "cannot connect to the system bus");
    r = sd_bus_request_name(bus.get(), ipc::kBusName, 0);
    if (r == -EEXIST) {
        throw StartupError(std::string("another process already owns ") + ipc::kBusName +
                           " on the system bus: is apitokend already running?");
    }
    if (r == -EACCES || r == -EPERM) {
        throw StartupError(std::string("the D-Bus policy does not let uid ") +
                           std::to_string(geteuid()) + " own " + ipc::kBusName +
                           " (install io.apitoken1.conf in /usr/share/dbus-1/system.d and "
                           "reload dbus, and run apitokend as the apitoken user)");
    }
    check(r, std::string("cannot own ") + ipc::kBusName);
    return bus;
}

class Daemon {
public:
    explicit Daemon(const DaemonOptions& options) : config_(load(options)), log_(config_.debug) {
        block_stop_signals();
        sd_event* raw = nullptr;
        check(sd_event_default(&raw), "cannot create the event loop");
        event_.reset(raw);
        try {
            store_ = std::make_unique<store::TokenStore>(store_options(config_, options));
        } catch (const store::StoreError& error) {
            throw StartupError(error.what());
        }
        if (!HashWorkerPool::priority_adjustable()) {
            log_.warning("cannot lower the hash workers' priority (setpriority is not allowed "
                         "here); under a flood, answering calls competes with hashing");
        }
        pool_ = std::make_unique<HashWorkerPool>(event_.get(), worker_count(config_),
                                                 config_.queue_size);
        service_ = std::make_unique<TokenService>(config_, *store_, log_, *pool_);
        if (config_.fleet()) {
            start_fleet();
        }
        service_->upkeep().run();
        bus_ = connect_and_claim_name();
        object_ = std::make_unique<BusObject>(bus_.get(), *service_, log_, fleet_.get());
        check(sd_bus_attach_event(bus_.get(), event_.get(), SD_EVENT_PRIORITY_NORMAL),
              "cannot attach the bus");
        // When the bus goes away, leave the loop (exit code 1): systemd restarts us.
        check(sd_bus_set_exit_on_disconnect(bus_.get(), 1), "cannot watch the bus");
        start_direct();
        add_signal(SIGTERM);
        add_signal(SIGINT);
        flush_timer_ = add_timer(config_.usage_flush_interval, [this] {
            service_->usage().flush();
            exit_if_store_gone();
        });
        purge_timer_ = add_timer(kPurgeInterval, [this] { service_->upkeep().run(); });
    }

    int run() {
        log_.record(AuditEvent::DaemonStarted,
                    {.result = "ready", .reason = store_->state_dir().string()});
        running_ = true;
        if (replica_ready_) {
            notify_ready();
        }
        const int r = sd_event_loop(event_.get());
        sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
        log_.record(
            AuditEvent::DaemonStopping,
            {.result = r == 0 ? "signal" : (store_gone_ ? "state directory gone" : "bus lost")});
        // Answer what is in flight, then write the statistics.
        pool_->drain();
        service_->usage().flush();
        save_fleet_usage();
        if (r != 0 && !store_gone_) {
            log_.error("lost the connection to the system bus; exiting so that systemd restarts "
                       "apitokend");
        }
        return r == 0 ? kExitOk : kExitFailure;
    }

private:
    using Task = std::function<void()>;

    // This host's uses the fleet database has not had yet: sent after the
    // next start.
    void save_fleet_usage() const {
        if (!fleet_) {
            return;
        }
        try {
            fleet_->save_usage();
        } catch (const std::exception& error) {
            log_.error(std::string("fleet: cannot keep this host's last usage statistics for the "
                                   "fleet database: ") +
                       error.what());
        }
    }

    // READY=1 (Type=notify) once the bus is served and, in fleet mode, the
    // replica may be used (synced, or within its grace period).
    void notify_ready() const {
        sd_notifyf(0, "READY=1\nSTATUS=Serving %s, %zu tokens%s", ipc::kBusName, store_->count(),
                   fleet_ ? " (fleet mode)" : "");
    }

    void start_fleet() {
        replica_ready_ = false;
        try {
            fleet_ = std::make_unique<FleetReplica>(config_, *store_, log_, event_.get(), [this] {
                replica_ready_ = true;
                if (running_) {
                    notify_ready();
                }
            });
        } catch (const std::exception& error) {
            throw StartupError(std::string("fleet mode: ") + error.what());
        }
        service_->authentication().set_replica_gate(fleet_.get());
        fleet_timer_ = add_timer(config_.fleet_poll_interval, [this] { fleet_->tick(); });
        service_->usage().set_observer(
            [this](std::span<const store::UsageEvent> uses) { fleet_->count_uses(uses); });
        fleet_usage_timer_ =
            add_timer(config_.fleet_usage_flush_interval, [this] { fleet_->flush_usage(); });
    }

    // The direct socket besides the bus (after the bus name: a second
    // instance stops there). Without it the daemon still serves the bus,
    // where the clients fall back.
    void start_direct() {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread asks
        const char* wanted = std::getenv("APITOKEN_SOCKET");
        const std::string path = wanted != nullptr ? wanted : config_.direct_socket;
        if (path.empty() && sd_listen_fds(0) <= 0) {
            return;
        }
        try {
            direct_ = std::make_unique<DirectListener>(
                event_.get(), DirectListener::listening_socket(path), *object_, log_);
        } catch (const std::exception& error) {
            log_.warning(std::string("no direct connection: ") + error.what() +
                         "; clients use the system bus");
        }
    }

    // Someone removed or replaced the state directory: what the daemon
    // still has open is gone for everyone else, and the store refuses to
    // write to it. Exit 1, so that systemd starts apitokend on the
    // directory as it is now.
    void exit_if_store_gone() {
        if (store_gone_ || store_->still_in_place()) {
            return;
        }
        store_gone_ = true;
        log_.error(store_->state_dir().string() +
                   "/data.mdb was removed or replaced while apitokend ran; exiting so that "
                   "systemd restarts apitokend on the state directory as it is now");
        sd_event_exit(event_.get(), 1);
    }

    void add_signal(int signal) {
        check(sd_event_add_signal(event_.get(), nullptr, signal, nullptr, nullptr),
              "cannot watch signals");
    }

    EventSource add_timer(std::chrono::seconds interval, Task task) {
        auto& slot =
            tasks_.emplace_back(std::make_unique<TimerTask>(TimerTask{std::move(task), interval}));
        sd_event_source* raw = nullptr;
        check(sd_event_add_time_relative(event_.get(), &raw, CLOCK_MONOTONIC,
                                         ipc::usec_of(interval), 0, on_timer, slot.get()),
              "cannot add a timer");
        return EventSource(raw);
    }

    struct TimerTask {
        Task task;
        std::chrono::seconds interval;
    };

    static int on_timer(sd_event_source* source, std::uint64_t /*usec*/, void* userdata) {
        auto& timer = *static_cast<TimerTask*>(userdata);
        try {
            timer.task();
        } catch (...) {
            // The tasks log their own failures; a C callback must not throw.
        }
        sd_event_source_set_time_relative(source, ipc::usec_of(timer.interval));
        sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return 0;
    }

    Config config_;
    AuditLog log_;
    EventLoop event_;
    std::unique_ptr<store::TokenStore> store_;
    std::unique_ptr<HashWorkerPool> pool_;
    std::unique_ptr<TokenService> service_;
    std::unique_ptr<FleetReplica> fleet_;
    bool replica_ready_ = true;
    bool running_ = false;
    Bus bus_;
    std::unique_ptr<BusObject> object_;
    std::unique_ptr<DirectListener> direct_; // after object_: destroyed before it
    std::vector<std::unique_ptr<TimerTask>> tasks_;
    bool store_gone_ = false;
    EventSource flush_timer_;
    EventSource purge_timer_;
    EventSource fleet_timer_;
    EventSource fleet_usage_timer_;
};

} // namespace

int run_daemon(const DaemonOptions& options) {
    // Tokens pass through this process's memory: no core dumps, no ptrace by
    // other processes of the same user.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    try {
        Daemon daemon(options);
        return daemon.run();
    } catch (const StartupError& error) {
        static_cast<void>(std::fprintf(stderr, "apitokend: %s\n", error.what()));
        sd_notifyf(0, "STATUS=Failed to start: %s", error.what());
        return error.code();
    } catch (const std::exception& error) {
        static_cast<void>(std::fprintf(stderr, "apitokend: %s\n", error.what()));
        return kExitFailure;
    }
}

} // namespace apitoken::daemon
