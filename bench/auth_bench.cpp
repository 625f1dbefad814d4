// Measures one authentication end to end (service -> libpam -> pam_apitoken.so
// -> bus or direct socket -> apitokend -> store + Argon2id -> back) against
// its physical limit, measured the same way on the same machine in the same
// run:
//  - raw crypto_pwhash_str_verify at the daemon's parameters,
//  - a raw sd-bus round trip (connect, call, close) through the bus to a
//    trivial service, and one over a Unix socket to a trivial sd-bus peer
//    (connect, no Hello, Peer.Ping, close),
//  - the same libpam path with pam_permit.so in place of pam_apitoken.so.
// Successful, wrong-secret and malformed tokens, 1 to 16 concurrent clients,
// stores of 1k and 1M tokens, and libsodium's INTERACTIVE hashing level.
// With 1k tokens, also a successful token with a use limit (never reached),
// whose every use apitokend writes durably before answering, next to the
// unlimited one, and that durable write alone (TokenStore::consume_use).
// Starts its own private bus and daemon (the integration tests' world), so it
// needs root. Prints tables and targets and exits 0 whatever the figures;
// 1 when a call had an unexpected outcome (the figures would be wrong), 77
// when not root. See --help.
#include "bench/auth_report.hpp"
#include "bench/auth_targets.hpp"
#include "bench/bench_options.hpp"
#include "bench/bench_world.hpp"
#include "bench/cpu_accounting.hpp"
#include "bench/durable_write.hpp"
#include "bench/load_runner.hpp"
#include "bench/pam_login.hpp"
#include "bench/physical_limits.hpp"
#include "bench/store_fill.hpp"
#include "store/sodium_init.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "tests/support/pam_wrapper_exec.hpp"

#include <security/pam_appl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::bench {
namespace {

constexpr int kExitSkipped = 77; // ctest's SKIP_RETURN_CODE

std::string fixed(double value, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << value;
    return out.str();
}

// 1000 -> "1k", 1000000 -> "1M": short labels for store sizes.
std::string count_label(std::size_t count) {
    if (count >= 1'000'000 && count % 1'000'000 == 0) {
        return std::to_string(count / 1'000'000) + "M";
    }
    if (count >= 1'000 && count % 1'000 == 0) {
        return std::to_string(count / 1'000) + "k";
    }
    return std::to_string(count);
}

double seconds_of(Clock::duration duration) {
    return std::chrono::duration<double>(duration).count();
}

// The machine is shared: other work on its two CPUs shows up in every
// figure, so the report says how busy it was.
std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    std::string five;
    in >> one >> five;
    return one + " (1 min), " + five + " (5 min)";
}

// ---- the loads -------------------------------------------------------------

// A failed attempt counts against its source (caller, rhost, user). Each
// client of each run reports a new rhost every this many calls, so that with
// throttle_max_failures = 1000 no source is ever blocked, and the throttle
// table holds a few hundred sources rather than one per call.
constexpr std::uint64_t kCallsPerRhost = 500;

std::string rhost_for(std::size_t run, std::size_t client, std::uint64_t sequence) {
    return "bench-" + std::to_string(run) + "-c" + std::to_string(client) + "-r" +
           std::to_string(sequence / kCallsPerRhost);
}

// The token texts the loads present.
struct Tokens {
    std::string success;
    std::string wrong_secret; // the real id, another secret, a valid checksum
    std::string malformed;    // the real token with its checksum broken
};

Tokens tokens_for(const RealToken& real) {
    Tokens tokens{real.text, std::string(store::generate_token(real.token.id).text.view()),
                  real.text};
    // The first secret digit: still lowercase hex, so it reaches the daemon,
    // which refuses it on the checksum before any store access or hashing.
    char& digit = tokens.malformed[store::kTokenPrefix.size() + store::kTokenIdHexLength];
    digit = digit == '0' ? '1' : '0';
    if (store::parse_token(tokens.malformed) || !store::parse_token(tokens.wrong_secret) ||
        tokens.wrong_secret == tokens.success) {
        throw std::logic_error("the bench's wrong and malformed tokens are not what they claim");
    }
    return tokens;
}

// The raw calls report 0 for success too, which is PAM_SUCCESS.
static_assert(PAM_SUCCESS == 0);

int expected_outcome(Load load) {
    return load == Load::WrongSecret || load == Load::Malformed ? PAM_AUTH_ERR : PAM_SUCCESS;
}

Operation pam_operation(const char* service, const std::string& user, const std::string& secret,
                        std::size_t run) {
    return [service, user, secret, run](std::size_t client, std::uint64_t sequence) {
        const std::string rhost = rhost_for(run, client, sequence);
        return pam_login({service, user.c_str(), secret.c_str(), rhost.c_str()});
    };
}

// ---- scenarios -------------------------------------------------------------

// One daemon start: a store, a hashing level, and what is run against it.
struct Scenario {
    std::string label;
    std::size_t tokens = 0;
    store::HashParams params;
    std::vector<Load> loads;
    RunTiming timing;
    int rounds = 1;
};

class AuthBench {
public:
    explicit AuthBench(std::vector<std::size_t> clients)
        : clients_(std::move(clients)), real_{world_.user().name, world_.user().uid},
          limited_{world_.user().name, world_.user().uid, kNeverReachedUseLimit},
          tokens_(tokens_for(real_)) {}

    void run(const Scenario& scenario) {
        ScenarioMemory memory;
        memory.ready = start(scenario);
        const std::string hash = store::hash_token(real_.text, scenario.params);
        // Round robin, so that drift in what else runs on the machine hits
        // every load alike, and the runs a ratio compares are seconds apart.
        for (int round = 0; round < scenario.rounds; ++round) {
            for (const std::size_t clients : clients_) {
                for (const Load load : scenario.loads) {
                    measure(scenario, load, clients, hash);
                }
            }
        }
        memory.done = world_.daemon_memory();
        results_.add_memory(scenario.label, memory);
        world_.stop_daemon();
    }

    [[nodiscard]] const Results& results() const { return results_; }

private:
    DaemonMemory start(const Scenario& scenario) {
        const DaemonStart started =
            world_.start_daemon(scenario.tokens, scenario.params, {&real_, &limited_});
        const DaemonMemory ready = world_.daemon_memory();
        std::cout << "store " << std::left << std::setw(15) << scenario.label << std::right
                  << " filled in " << fixed(started.fill.seconds, 2) << " s (data.mdb "
                  << (started.fill.data_bytes >> 20U) << " MiB); apitokend ready in "
                  << fixed(started.ready_seconds, 2) << " s\n";
        std::cerr << "  apitokend pid " << world_.daemon_pid() << '\n';
        // The first success may re-hash the token (parameters changed); do
        // it alone, before any timing.
        for (const RealToken* token : {&real_, &limited_}) {
            expect_success(kApitokenService, *token, "");
        }
        // The direct rows must not time the bus by falling back to it.
        world_.without_bus([this] {
            expect_success(kDirectService, real_, " over the direct socket");
            return 0;
        });
        return ready;
    }

    void expect_success(const char* service, const RealToken& token, const char* how) {
        const int rc = pam_login({service, token.user.c_str(), token.text.c_str(), "prime"});
        if (rc != PAM_SUCCESS) {
            throw std::runtime_error(
                std::string("the real ") + (token.max_uses != 0 ? "use-limited " : "") +
                "token did not authenticate" + how + " (PAM code " + std::to_string(rc) +
                "); apitokend's log:\n" + world_.daemon_log());
        }
    }

    Operation operation(Load load, const std::string& hash) {
        const std::size_t run = run_number_++;
        switch (load) {
        case Load::RawVerify:
            return
                [&hash, this](std::size_t, std::uint64_t) { return raw_verify(hash, real_.text); };
        case Load::BusPing: return [](std::size_t, std::uint64_t) { return raw_bus_ping(); };
        case Load::DirectPing:
            return [address = world_.direct_peer_address()](std::size_t, std::uint64_t) {
                return raw_direct_ping(address);
            };
        case Load::BusAuthenticate:
            return [this, run](std::size_t client, std::uint64_t sequence) {
                return bus_authenticate(real_.user, real_.text, rhost_for(run, client, sequence));
            };
        case Load::DirectAuthenticate:
            return [this, run](std::size_t client, std::uint64_t sequence) {
                return direct_authenticate(real_.user, real_.text,
                                           rhost_for(run, client, sequence));
            };
        case Load::PamPermit: return pam_operation(kPermitService, real_.user, real_.text, run);
        case Load::RawWrite:
            return [this, run](std::size_t client, std::uint64_t sequence) {
                return durable_write_.consume(rhost_for(run, client, sequence));
            };
        case Load::Success: return pam_operation(kApitokenService, real_.user, real_.text, run);
        case Load::DirectSuccess: return pam_operation(kDirectService, real_.user, real_.text, run);
        case Load::LimitedSuccess:
            return pam_operation(kApitokenService, limited_.user, limited_.text, run);
        case Load::WrongSecret:
            return pam_operation(kApitokenService, real_.user, tokens_.wrong_secret, run);
        case Load::Malformed:
            return pam_operation(kApitokenService, real_.user, tokens_.malformed, run);
        }
        throw std::logic_error("unknown load");
    }

    void measure(const Scenario& scenario, Load load, std::size_t clients,
                 const std::string& hash) {
        CpuSample before;
        CpuSample after;
        const RunResult result =
            run_load(clients, scenario.timing, expected_outcome(load), operation(load, hash),
                     {[&] { before = sample_cpu(); }, [&] { after = sample_cpu(); }});
        std::cerr << "  " << scenario.label << ", " << load_name(load) << ", " << clients
                  << " clients: " << fixed(result.per_second(), 0) << "/s, p50 "
                  << fixed(result.p50_us(), 0) << " us"
                  << (result.errors() != 0 ? ", UNEXPECTED OUTCOMES" : "") << '\n';
        results_.add(scenario.label, load, result, usage_between(before, after));
    }

    std::vector<std::size_t> clients_;
    BenchWorld world_;
    RealToken real_;
    RealToken limited_; // a use limit it never reaches
    Tokens tokens_;
    DurableWrite durable_write_;
    std::size_t run_number_ = 0;
    Results results_;
};

ScenarioNames scenario_names(const BenchConfig& config) {
    return {count_label(config.small_store), count_label(config.large_store),
            count_label(config.small_store) + " interactive"};
}

// The small store first, with the limits, so that e2e and limits are
// measured minutes apart at most.
std::vector<Scenario> full_plan(const BenchConfig& config) {
    const ScenarioNames names = scenario_names(config);
    const auto fast = store::HashParams::defaults();
    const auto slow = store::HashParams::interactive();
    const std::vector<Load> e2e{Load::Success, Load::WrongSecret, Load::Malformed};
    // The use-limited token and its durable write: with the limits, next to
    // the loads they compare with (round robin keeps them seconds apart).
    // The direct path too, each load beside its bus counterpart.
    const std::vector<Load> with_limits{
        Load::RawVerify,          Load::BusPing,        Load::DirectPing,  Load::BusAuthenticate,
        Load::DirectAuthenticate, Load::PamPermit,      Load::RawWrite,    Load::Success,
        Load::DirectSuccess,      Load::LimitedSuccess, Load::WrongSecret, Load::Malformed};
    std::vector<Load> interactive{Load::RawVerify};
    interactive.insert(interactive.end(), e2e.begin(), e2e.end());
    return {
        {names.small, config.small_store, fast, with_limits, config.timing, config.rounds},
        {names.large, config.large_store, fast, e2e, config.timing, config.rounds},
        {names.interactive, config.small_store, slow, interactive, config.slow_timing,
         config.rounds},
    };
}

Scenario single_scenario(const BenchConfig& config) {
    const SingleRun& single = *config.single;
    return {count_label(single.tokens) + (single.interactive ? " interactive" : ""),
            single.tokens,
            single.interactive ? store::HashParams::interactive() : store::HashParams::defaults(),
            {single.load},
            config.timing,
            config.rounds};
}

// ---- report ----------------------------------------------------------------

void print_header(const BenchConfig& config) {
    const auto fast = store::HashParams::defaults();
    const auto slow = store::HashParams::interactive();
    std::cout << "apitoken-auth-bench: " << std::thread::hardware_concurrency()
              << " CPUs, apitokend with " << default_hash_workers()
              << " hash workers; Argon2id t=" << fast.opslimit << " m=" << (fast.memlimit >> 10U)
              << " KiB (default), t=" << slow.opslimit << " m=" << (slow.memlimit >> 10U)
              << " KiB (interactive)\n"
              << "runs: " << config.rounds << " rounds (round robin over loads) of "
              << fixed(seconds_of(config.timing.measure), 1) << " s after "
              << fixed(seconds_of(config.timing.warmup), 1) << " s warm-up ("
              << fixed(seconds_of(config.slow_timing.measure), 1) << " s after "
              << fixed(seconds_of(config.slow_timing.warmup), 1)
              << " s interactive); closed loop, each client its own pam handle and connection\n"
              << "throttle: throttle_max_failures = 1000 and a new PAM_RHOST per client every "
              << kCallsPerRhost << " calls\n"
              << "load average at start: " << load_average() << "\n\n";
}

int report(const Results& results, const BenchConfig& config) {
    std::cout << '\n';
    results.print_table(config.single ? std::vector{config.single->clients} : config.clients);
    results.print_errors();
    std::cout << '\n';
    results.print_cpu_table(config.single ? std::vector{config.single->clients} : config.clients);
    std::cout << '\n';
    results.print_memory();
    if (!config.single) {
        const ScenarioNames names = scenario_names(config);
        print_latency_parts(results, names.small);
        std::cout << '\n';
        print_use_limit_cost(results, names.small, config.clients);
        std::cout << '\n';
        print_targets(targets(results, names));
    }
    std::cout << "load average at the end: " << load_average() << '\n';
    if (results.errors() != 0) {
        std::cerr << "apitoken-auth-bench: some calls had unexpected outcomes (above); the "
                     "figures do not measure the path they name\n";
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

int run(const BenchConfig& config) {
    store::ensure_sodium_initialized(); // libsodium picks its fastest Argon2 code here
    print_header(config);
    AuthBench bench(config.single ? std::vector{config.single->clients} : config.clients);
    const auto scenarios = config.single ? std::vector{single_scenario(config)} : full_plan(config);
    for (const auto& scenario : scenarios) {
        bench.run(scenario);
    }
    return report(bench.results(), config);
}

} // namespace
} // namespace apitoken::bench

int main(int argc, char** argv) {
    using namespace apitoken::bench;
    try {
        int exit_code = EXIT_SUCCESS;
        const auto config = parse_arguments(argc, argv, exit_code);
        if (!config) {
            return exit_code;
        }
        if (::geteuid() != 0) {
            std::cerr << "apitoken-auth-bench: needs root (it runs apitokend and callers as "
                         "other users); skipped\n";
            return kExitSkipped;
        }
        // libpam runs inside this process: pam_wrapper must be preloaded.
        if (!apitoken::testing::ensure_pam_wrapper_preloaded(argv)) {
            throw std::runtime_error("cannot re-execute with pam_wrapper preloaded");
        }
        return run(*config);
    } catch (const std::exception& error) {
        std::cerr << "apitoken-auth-bench: " << error.what() << '\n';
        return EXIT_FAILURE;
    }
}
