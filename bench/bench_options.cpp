#include "bench/bench_options.hpp"

#include <CLI/CLI.hpp>

#include <array>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

namespace apitoken::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::array kAllLoads{
    Load::RawVerify,          Load::BusPing,        Load::DirectPing,  Load::BusAuthenticate,
    Load::DirectAuthenticate, Load::PamPermit,      Load::RawWrite,    Load::Success,
    Load::DirectSuccess,      Load::LimitedSuccess, Load::WrongSecret, Load::Malformed};

// Small enough for a ctest smoke test under ASan+UBSan; its figures mean little.
BenchConfig quick_config() {
    return {1'000, 20'000, {1, 4}, 1, {100ms, 300ms}, {200ms, 800ms}, std::nullopt};
}

constexpr const char* kDescription =
    "Authenticates through real libpam (pam_wrapper), pam_apitoken.so, a private\n"
    "dbus-daemon and apitokend, and prints throughput and p50/p99 latency with 1, 4\n"
    "and 16 concurrent clients next to the physical limit (raw Argon2id verify, raw\n"
    "sd-bus round trip, pam_permit.so in place of pam_apitoken.so), for stores of\n"
    "1k and 1M tokens and at libsodium's INTERACTIVE hashing level, then the ratios\n"
    "and targets. The bus rows force the bus (module option bus_only); with 1k\n"
    "tokens the same authentication also goes over apitokend's direct socket\n"
    "(direct authenticate, direct success), next to its own limit (raw direct ping:\n"
    "connect, Peer.Ping to a trivial sd-bus peer without Hello, close). With 1k\n"
    "tokens also a token with a use limit (counted durably at each use, as a\n"
    "one-time token's one use is) next to the unlimited one, and that durable write\n"
    "alone. Needs root (exits 77 otherwise). Takes about seven minutes.";

// "raw bus ping" -> "raw-bus-ping", the names --only takes.
std::map<std::string, Load> loads_by_option_name() {
    std::map<std::string, Load> names;
    for (const Load load : kAllLoads) {
        std::string name = load_name(load);
        for (auto& c : name) {
            c = c == ' ' || c == '_' ? '-' : c;
        }
        names.emplace(name, load);
    }
    return names;
}

void add_single_run_options(CLI::App& app, SingleRun& single, CLI::Option* only) {
    app.add_option("--clients", single.clients, "with --only: concurrent clients (default 1)")
        ->check(CLI::PositiveNumber)
        ->option_text("N")
        ->needs(only);
    app.add_option("--tokens", single.tokens, "with --only: tokens in the store (default 1000)")
        ->check(CLI::PositiveNumber)
        ->option_text("N")
        ->needs(only);
    app.add_option_function<unsigned>(
           "--seconds",
           [&single](unsigned seconds) { single.duration = std::chrono::seconds(seconds); },
           "with --only: length of the run (default 10)")
        ->check(CLI::PositiveNumber)
        ->option_text("N")
        ->needs(only);
    app.add_flag("--interactive", single.interactive,
                 "with --only: libsodium's INTERACTIVE hashing level")
        ->needs(only);
}

} // namespace

std::optional<BenchConfig> parse_arguments(int argc, char** argv, int& exit_code) {
    CLI::App app(kDescription, "apitoken-auth-bench");
    app.get_formatter()->column_width(24);
    bool quick = false;
    SingleRun single;
    std::string load_text;
    const auto loads = loads_by_option_name();
    auto* quick_flag = app.add_flag("--quick", quick,
                                    "1k vs 20k tokens, 1 and 4 clients, short runs (a smoke test)");
    std::string load_list;
    for (const auto& [name, load] : loads) {
        load_list += (load_list.empty() ? "" : ", ") + name;
    }
    app.footer("LOAD is one of: " + load_list +
               ".\nWith --only, the pid of apitokend is printed at start, for perf record -p.");
    auto* only = app.add_option("--only", load_text, "one load for a while, for profiling")
                     ->check(CLI::IsMember(loads))
                     ->option_text("LOAD")
                     ->excludes(quick_flag);
    add_single_run_options(app, single, only);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        exit_code = app.exit(help);
        return std::nullopt;
    } catch (const CLI::ParseError& error) {
        static_cast<void>(app.exit(error));
        exit_code = 2; // usage error, as apitokenctl and apitokend
        return std::nullopt;
    }
    BenchConfig config = quick ? quick_config() : BenchConfig{};
    if (!load_text.empty()) {
        single.load = loads.at(load_text);
        config.single = single;
        config.rounds = 1;
        config.timing = config.slow_timing = {500ms, single.duration};
    }
    return config;
}

} // namespace apitoken::bench
