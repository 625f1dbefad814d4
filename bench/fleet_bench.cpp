// Fleet mode's figures (README "Performance"): how fast a revocation
// reaches other hosts (with NOTIFY, and by the poll alone), authentication
// throughput in fleet mode next to single-host mode, a revocation reaching
// 20 hosts, the initial sync of 100,000 tokens into a new host, and the
// statements per second usage flushing costs PostgreSQL. A throw-away
// PostgreSQL 15 cluster and apitokend "hosts" (each a TestWorld: private
// bus, state directory) on this machine. Figures, not pass/fail.
#include "fleet/pg_connection.hpp"
#include "fleet/record_wire.hpp"
#include "ipc/bus_client.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "tests/fleet/pg_cluster.hpp"
#include "tests/integration/test_world.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using apitoken::testing::PgCluster;
using apitoken::testing::TestWorld;
using Clock = std::chrono::steady_clock;

constexpr auto kCallTimeout = std::chrono::seconds(30);
constexpr int kSkipped = 77;

struct Options {
    bool quick = false;
    int revocations = 200;
    int hosts = 20;
    int sync_tokens = 100000;
    int logins = 300;
};

struct Host {
    std::string name;
    std::unique_ptr<TestWorld> world;
};

// The daemon of `host`, through its bus, as root.
std::unique_ptr<apitoken::ipc::Client> client_of(const Host& host) {
    setenv("DBUS_SYSTEM_BUS_ADDRESS", host.world->bus_address().c_str(), 1); // NOLINT
    return std::make_unique<apitoken::ipc::Client>(kCallTimeout);
}

Host start_host(const PgCluster& pg, const std::string& name, const std::string& extra) {
    Host host{name, std::make_unique<TestWorld>()};
    host.world->set_config("fleet_database = " + pg.conninfo() + "\nfleet_host_name = " + name +
                           "\nthrottle_max_failures = 1000\nmax_tokens_per_user = 100000\n" +
                           extra);
    host.world->start_daemon();
    return host;
}

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    return values[at];
}

std::string live_state(const Host& host, const std::string& id) {
    auto client = client_of(host);
    std::vector<apitoken::ipc::TokenLookup> found;
    const auto outcome = client->lookup_tokens({id}, found);
    return outcome.ok() && found.size() == 1 ? found.front().state : std::string("error");
}

std::vector<std::string> create_tokens(const Host& host, int count, const std::string& prefix) {
    std::vector<std::string> ids;
    auto client = client_of(host);
    for (int i = 0; i < count; ++i) {
        apitoken::ipc::CreatedToken created;
        const auto outcome =
            client->create_token("alice", prefix + std::to_string(i), -1, {}, created);
        if (!outcome.ok()) {
            throw std::runtime_error("create failed: " + outcome.message);
        }
        ids.push_back(created.id);
    }
    return ids;
}

void wait_until(const std::function<bool()>& condition, std::chrono::seconds limit = 300s) {
    const auto end = Clock::now() + limit;
    while (!condition()) {
        if (Clock::now() > end) {
            throw std::runtime_error("timed out waiting for the fleet");
        }
        std::this_thread::sleep_for(2ms);
    }
}

// Revokes each token on `from`; the time until every one of `to` no
// longer has it, per revocation (ms). With `spread`, each revocation waits
// a random time up to it first: revocations come at any moment of a
// poll's cycle, not just after one.
std::vector<double> propagation(const Host& from, const std::vector<const Host*>& to,
                                const std::vector<std::string>& ids,
                                std::chrono::milliseconds spread = 0ms) {
    wait_until([&] {
        return std::all_of(to.begin(), to.end(),
                           [&](const Host* h) { return live_state(*h, ids.back()) == "live"; });
    });
    std::vector<double> times;
    for (const auto& id : ids) {
        if (spread > 0ms) {
            std::this_thread::sleep_for(std::chrono::milliseconds(
                randombytes_uniform(static_cast<std::uint32_t>(spread.count()))));
        }
        {
            auto client = client_of(from);
            if (!client->revoke_token("alice", id).ok()) {
                throw std::runtime_error("revoke failed");
            }
        }
        const auto start = Clock::now();
        for (const Host* host : to) {
            wait_until([&] { return live_state(*host, id) != "live"; });
        }
        times.push_back(ms(Clock::now() - start));
    }
    return times;
}

void report(const std::string& what, const std::vector<double>& times, double target_ms) {
    const double p99 = percentile(times, 0.99);
    std::printf("%-48s n=%zu p50=%.1f ms p99=%.1f ms  target p99 <= %.0f ms: %s\n", what.c_str(),
                times.size(), percentile(times, 0.5), p99, target_ms,
                p99 <= target_ms ? "met" : "MISSED");
}

// Logins per second through one host's bus (root, one client at a time).
double login_rate(const Host& host, const std::string& token, int logins) {
    const auto start = Clock::now();
    for (int i = 0; i < logins; ++i) {
        auto client = client_of(host);
        if (!client->authenticate("alice", token, "sshd", "").ok()) {
            throw std::runtime_error("a login failed on " + host.name);
        }
    }
    return logins / std::chrono::duration<double>(Clock::now() - start).count();
}

void throughput(const PgCluster& pg, const Options& options) {
    Host single{"single", std::make_unique<TestWorld>()};
    single.world->set_config("throttle_max_failures = 1000\n");
    single.world->start_daemon();
    const Host fleet = start_host(pg, "bench-tp", "");
    apitoken::ipc::CreatedToken a;
    apitoken::ipc::CreatedToken b;
    if (!client_of(single)->create_token("alice", "tp", -1, {}, a).ok() ||
        !client_of(fleet)->create_token("alice", "tp", -1, {}, b).ok()) {
        throw std::runtime_error("cannot create the throughput tokens");
    }
    // Interleaved rounds, so that the machine's load falls on both alike.
    double single_rate = 0;
    double fleet_rate = 0;
    for (int round = 0; round < 3; ++round) {
        single_rate += login_rate(single, std::string(a.token.view()), options.logins / 3);
        fleet_rate += login_rate(fleet, std::string(b.token.view()), options.logins / 3);
    }
    const double ratio = fleet_rate / single_rate;
    std::printf("%-48s single %.0f/s, fleet %.0f/s, ratio %.2f  target >= 0.95: %s\n",
                "authentication throughput (1 client)", single_rate / 3, fleet_rate / 3, ratio,
                ratio >= 0.95 ? "met" : "MISSED");
}

// 100,000 tokens written straight into the database (one transaction),
// then a new host: its start to READY=1 is the initial sync.
void initial_sync(const PgCluster& pg, const Options& options) {
    apitoken::fleet::PgConnection db(pg.conninfo(), std::chrono::seconds{600});
    const std::string hash = apitoken::store::hash_token(
        apitoken::store::generate_token().text.view(), apitoken::store::HashParams::defaults());
    apitoken::fleet::in_transaction(db, "BEGIN", [&] {
        constexpr int kBatch = 5000;
        for (int done = 0; done < options.sync_tokens; done += kBatch) {
            std::string ids = "{";
            std::string records = "{";
            for (int i = done; i < std::min(done + kBatch, options.sync_tokens); ++i) {
                apitoken::store::TokenRecord record;
                record.id = apitoken::store::TokenId::random();
                record.user = "alice";
                record.uid = 61001;
                record.name = "sync-" + std::to_string(i);
                record.created = std::chrono::time_point_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now());
                record.hash = hash;
                ids += (i == done ? "" : ",") + record.id.hex();
                records += std::string(i == done ? "" : ",") + "\"\\" +
                           apitoken::fleet::record_to_wire(record) + "\"";
            }
            db.exec("INSERT INTO apitoken_fleet.tokens (id, user_name, hosts, record, "
                    "made_by_host) SELECT i, 'alice', '{}', r, 'bench' FROM unnest($1::text[], "
                    "$2::bytea[]) AS t(i, r)",
                    {ids + "}", records + "}"});
        }
    });
    const auto start = Clock::now();
    const Host fresh = start_host(pg, "bench-new", "");
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-48s %d tokens: %.1f s to READY, peak RSS %ld MiB\n",
                "initial sync of a new host", options.sync_tokens, seconds,
                fresh.world->daemon_peak_rss_kib() / 1024);
}

long stat_value(const PgCluster& pg, const std::string& sql) {
    const auto r = pg.psql(sql);
    long value = -1;
    if (r.exit_code == 0) {
        std::from_chars(r.out.data(), r.out.data() + r.out.size(), value);
    }
    return value;
}

long commits(const PgCluster& pg) {
    return stat_value(pg, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'");
}

long usage_calls(const PgCluster& pg) {
    return stat_value(pg, "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE "
                          "funcname = 'record_usage'");
}

// PostgreSQL's statements per second while every host authenticates
// steadily. Its statistics lag (a backend reports within 10 s), so the
// logins start 12 s before the first reading and go on until the last:
// in a steady state the difference is the window's.
void database_load(const PgCluster& pg, const std::vector<Host>& hosts, const std::string& token,
                   std::chrono::seconds window) {
    constexpr auto kStatisticsLag = 12s;
    const auto start = Clock::now();
    std::optional<Clock::time_point> window_start;
    long commits_before = 0;
    long usage_before = 0;
    int logins = 0;
    while (!window_start || Clock::now() - *window_start < window) {
        if (!window_start && Clock::now() - start >= kStatisticsLag) {
            window_start = Clock::now();
            commits_before = commits(pg);
            usage_before = usage_calls(pg);
            logins = 0;
        }
        for (const auto& host : hosts) {
            login_rate(host, token, 1);
            ++logins;
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - *window_start).count();
    std::printf("%-48s %zu hosts, %.0f logins/s: %.1f usage upserts/s (bound: 1 per host per "
                "flush interval, %zu/s), %.1f transactions/s in all\n",
                "PostgreSQL load from usage flushing", hosts.size(), logins / seconds,
                static_cast<double>(usage_calls(pg) - usage_before) / seconds, hosts.size(),
                static_cast<double>(commits(pg) - commits_before) / seconds);
}

int run(const Options& options) {
    if (geteuid() != 0 || !PgCluster::available()) {
        std::cerr << "needs root and PostgreSQL 15 (apt-get install postgresql-15)\n";
        return kSkipped;
    }
    const PgCluster pg;
    const int hosts = options.quick ? 3 : options.hosts;
    const int revocations = options.quick ? 10 : options.revocations;
    std::printf("fleet bench: %d hosts, %d revocations%s\n", hosts, revocations,
                options.quick ? " (--quick: figures mean little)" : "");

    // With NOTIFY (the poll every 10 minutes, so it cannot help).
    const Host a = start_host(pg, "web-1", "fleet_poll_interval = 10m\n");
    const Host b = start_host(pg, "web-2", "fleet_poll_interval = 10m\n");
    report("revocation A -> B, NOTIFY", propagation(a, {&b}, create_tokens(a, revocations, "n")),
           1000);
    // Notifications lost: B only polls, every 2 s.
    const Host c = start_host(pg, "web-3", "fleet_poll_interval = 2s\nfleet_listen = no\n");
    report("revocation A -> C, poll only (every 2 s)",
           propagation(a, {&c}, create_tokens(a, revocations, "p"), 2000ms), 2000);

    // Many hosts, all authenticating while their usage is flushed each second.
    std::vector<Host> many;
    many.reserve(static_cast<std::size_t>(hosts));
    for (int i = 0; i < hosts; ++i) {
        many.push_back(start_host(pg, "node-" + std::to_string(i),
                                  "fleet_poll_interval = 30s\nfleet_usage_flush_interval = 1s\n"
                                  "usage_flush_interval = 1s\n"));
    }
    std::vector<const Host*> all;
    all.reserve(many.size());
    for (const auto& host : many) {
        all.push_back(&host);
    }
    report("revocation A -> all " + std::to_string(hosts) + " hosts, NOTIFY",
           propagation(a, all, create_tokens(a, std::max(10, revocations / 10), "m")), 1000);

    apitoken::ipc::CreatedToken shared;
    if (!client_of(a)->create_token("alice", "shared", -1, {}, shared).ok()) {
        throw std::runtime_error("cannot create the shared token");
    }
    wait_until([&] { return live_state(many.back(), shared.id) == "live"; });
    database_load(pg, many, std::string(shared.token.view()), options.quick ? 5s : 20s);
    many.clear();

    throughput(pg, options);
    Options sync = options;
    if (options.quick) {
        sync.sync_tokens = 2000;
    }
    initial_sync(pg, sync);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        CLI::App app("apitoken-fleet-bench: fleet mode's figures against a throw-away "
                     "PostgreSQL cluster and apitokend hosts on this machine (needs root, "
                     "postgresql-15).");
        Options options;
        app.add_flag("--quick", options.quick,
                     "a few seconds, for the test suite (figures mean little)");
        app.add_option("--revocations", options.revocations, "revocations measured per path")
            ->check(CLI::PositiveNumber);
        app.add_option("--hosts", options.hosts, "hosts following the database")
            ->check(CLI::Range(1, 100));
        app.add_option("--sync-tokens", options.sync_tokens, "tokens of the initial sync")
            ->check(CLI::PositiveNumber);
        app.add_option("--logins", options.logins, "logins per throughput measurement")
            ->check(CLI::Range(3, 1000000));
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& error) {
            return app.exit(error);
        }
        return run(options);
    } catch (const std::exception& error) {
        std::cerr << "apitoken-fleet-bench: " << error.what() << '\n';
        return 1;
    }
}
