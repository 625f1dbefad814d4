// Fleet mode through the real path, with real components: a throw-away
// PostgreSQL 15 cluster and two apitokend "hosts" (each a TestWorld: its own
// private bus, state directory and LMDB replica), pamtester and
// pam_apitoken.so in real libpam against each host's bus.
#include "tests/fleet/pg_cluster.hpp"
#include "tests/integration/test_world.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Propagation takes a notification's round trip; the deadline is for a
// loaded machine (and the poll interval, 2 s here, covers lost ones).
constexpr auto kPropagationDeadline = 60s;

bool eventually(const std::function<bool()>& condition,
                std::chrono::seconds deadline = kPropagationDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

struct Host {
    std::string name;
    std::unique_ptr<TestWorld> world;
};

class FleetTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "fleet tests need root (other uids, the postgres user)";
        }
        if (!PgCluster::available()) {
            GTEST_SKIP() << "PostgreSQL 15 is not installed (apt-get install postgresql-15)";
        }
        pg = std::make_unique<PgCluster>();
    }

    // A host of the fleet, started and synced (READY=1 comes after the
    // first sync).
    Host& add_host(const std::string& name, const std::string& extra = "",
                   const std::string& role = "postgres") {
        Host& host = hosts.emplace_back(Host{name, std::make_unique<TestWorld>()});
        host.world->write_pam_service("sshd", "auth required " APITOKEN_PAM_MODULE "\n");
        // A poll every 2 s and a usage flush every second unless `extra`
        // says otherwise.
        const std::string poll = contains(extra, "fleet_poll_interval")
                                     ? std::string()
                                     : std::string("fleet_poll_interval = 2s\n");
        const std::string flush = contains(extra, "fleet_usage_flush_interval")
                                      ? std::string()
                                      : std::string("fleet_usage_flush_interval = 1s\n");
        host.world->set_config("fleet_database = " + pg->conninfo(role) +
                               "\nfleet_host_name = " + name + "\n" + poll + flush +
                               "usage_flush_interval = 1s\nthrottle_max_failures = 1000\n" + extra);
        host.world->start_daemon();
        return host;
    }

    static ProcessResult ctl(const Host& host, const TestUser& as, std::vector<std::string> args) {
        args.insert(args.begin(), APITOKEN_CTL);
        return host.world->run_as(as, args);
    }

    // apitokenctl create as alice on `host`; the token, "" when refused.
    static std::string create(const Host& host, std::vector<std::string> args) {
        args.insert(args.begin(), "create");
        const ProcessResult r = ctl(host, host.world->alice, args);
        if (r.exit_code != 0 || !std::regex_match(r.out, std::regex("atk_[0-9a-f]{52}\n"))) {
            ADD_FAILURE() << "create on " << host.name << ": " << r.out << r.err;
            return {};
        }
        return r.out.substr(0, r.out.size() - 1);
    }

    static std::string id_of(const std::string& token) { return token.substr(4, 12); }

    static ProcessResult login(const Host& host, const std::string& token) {
        return host.world->pamtester(host.world->root, "sshd", "alice", token + "\n");
    }

    static bool logs_in(const Host& host, const std::string& token) {
        return login_succeeded(login(host, token));
    }

    static json fleet_state(const Host& host, const TestUser* as = nullptr) {
        const ProcessResult r =
            ctl(host, as != nullptr ? *as : host.world->root, {"status", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const json status = r.exit_code == 0 ? json::parse(r.out) : json::object();
        return status.value("fleet", json::object());
    }

    // `show ID --json` as alice on `host` ({} when refused).
    static json shown(const Host& host, const std::string& token) {
        const ProcessResult r = ctl(host, host.world->alice, {"show", id_of(token), "--json"});
        return r.exit_code == 0 ? json::parse(r.out) : json::object();
    }

    // The fleet's usage table: "host:count" lines, by host (or why psql failed).
    [[nodiscard]] std::string usage_rows() const {
        const ProcessResult rows =
            pg->psql("SELECT host || ':' || use_count FROM apitoken_fleet.usage ORDER BY host");
        return rows.exit_code == 0 ? rows.out : "psql failed: " + rows.err;
    }

    // The end of the fleet's change log (0 when psql fails).
    [[nodiscard]] std::uint64_t log_end() const {
        const ProcessResult r =
            pg->psql("SELECT coalesce(max(seq), 0) FROM apitoken_fleet.changes");
        return r.exit_code == 0 ? std::stoull(r.out) : 0;
    }

    // Whether `host`'s replica has applied the change log up to `seq`.
    static bool applied_through(const Host& host, std::uint64_t seq) {
        return fleet_state(host).value("replica_seq", std::uint64_t{0}) >= seq;
    }

    // How often a function of the fleet schema ran (track_functions = all);
    // read after the backends that called it have gone (a backend reports
    // its counts when idle for a while, and at its exit).
    [[nodiscard]] std::uint64_t calls_of(const std::string& function) const {
        const ProcessResult r =
            pg->psql("SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE "
                     "schemaname = 'apitoken_fleet' AND funcname = '" +
                     function + "'");
        return r.exit_code == 0 ? std::stoull(r.out) : 0;
    }

    // How many times `needle` occurs in `haystack`.
    static std::size_t occurrences(const std::string& haystack, const std::string& needle) {
        std::size_t n = 0;
        for (auto at = haystack.find(needle); at != std::string::npos;
             at = haystack.find(needle, at + needle.size())) {
            ++n;
        }
        return n;
    }

    std::unique_ptr<PgCluster> pg;
    std::vector<Host> hosts;
};

TEST_F(FleetTest, ATokenMadeOnOneHostWorksOnAnotherUntilRevokedThere) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string token = create(a, {"ci-upload"});
    ASSERT_FALSE(token.empty());
    EXPECT_TRUE(logs_in(a, token));
    EXPECT_TRUE(eventually([&] { return logs_in(b, token); })) << b.world->daemon_log();

    // A rename on B reaches A.
    ASSERT_EQ(ctl(b, b.world->alice, {"rename", id_of(token), "ci-deploy"}).exit_code, 0);
    EXPECT_TRUE(
        eventually([&] { return contains(ctl(a, a.world->alice, {"list"}).out, "ci-deploy"); }));

    // Revoked on A: refused on B.
    const ProcessResult revoked = ctl(a, a.world->alice, {"revoke", id_of(token)});
    ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
    EXPECT_FALSE(logs_in(a, token));
    EXPECT_TRUE(eventually([&] { return !logs_in(b, token); })) << b.world->daemon_log();

    // Status says how the replica stands: connected, synced, and its lag.
    const ProcessResult status = ctl(b, b.world->root, {"status"});
    EXPECT_TRUE(contains(status.out, "host web-2, connected")) << status.out;
    EXPECT_TRUE(contains(status.out, "\nlag:           ")) << status.out;
    EXPECT_GE(fleet_state(b).value("lag", -1), 0) << fleet_state(b).dump();
}

TEST_F(FleetTest, AHostStoresAndAcceptsOnlyTheTokensOfItsScope) {
    hosts.reserve(2);
    const Host& web = add_host("web-1");
    const Host& db = add_host("db-1");
    const std::string scoped = create(web, {"web-only", "--host=web-*"});
    const std::string everywhere = create(web, {"everywhere"});
    ASSERT_FALSE(scoped.empty());
    ASSERT_FALSE(everywhere.empty());
    // Changes arrive in order: once the later token works on db-1, the
    // scoped one has been seen there too, and left out.
    ASSERT_TRUE(eventually([&] { return logs_in(db, everywhere); })) << db.world->daemon_log();
    EXPECT_FALSE(logs_in(db, scoped));
    EXPECT_FALSE(contains(ctl(db, db.world->alice, {"list"}).out, "web-only"));
    EXPECT_TRUE(logs_in(web, scoped));
}

TEST_F(FleetTest, WithTheDatabaseDownHostsAuthenticateFromTheirReplicaAndQueueRevocations) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string kept = create(a, {"kept"});
    const std::string doomed = create(a, {"doomed"});
    ASSERT_TRUE(eventually([&] { return logs_in(b, kept) && logs_in(b, doomed); }));

    pg->stop();
    ASSERT_TRUE(eventually([&] { return !fleet_state(a).value("connected", true); }));
    EXPECT_TRUE(logs_in(b, kept));
    EXPECT_TRUE(logs_in(a, kept));

    // Creating needs the database: refused, in plain words, nothing made.
    const ProcessResult refused = ctl(a, a.world->alice, {"create", "while-down"});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_TRUE(contains(refused.err, "fleet database unreachable")) << refused.err;
    EXPECT_FALSE(contains(ctl(a, a.world->alice, {"list"}).out, "while-down"));

    // A revocation is never refused: applied here at once, queued for the rest.
    const ProcessResult revoked = ctl(a, a.world->alice, {"revoke", id_of(doomed)});
    EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
    EXPECT_FALSE(logs_in(a, doomed));
    EXPECT_EQ(fleet_state(a).value("queued_revocations", 0), 1);
    EXPECT_TRUE(logs_in(b, doomed)); // B cannot know yet

    // A kill -9 while it waits loses nothing: the queue is on disk.
    a.world->kill_daemon();
    pg->start();
    a.world->start_daemon();
    EXPECT_FALSE(logs_in(a, doomed));
    EXPECT_TRUE(eventually([&] { return !logs_in(b, doomed); })) << b.world->daemon_log();
    EXPECT_TRUE(eventually([&] { return fleet_state(a).value("queued_revocations", 1) == 0; }));
    EXPECT_TRUE(logs_in(b, kept));
}

TEST_F(FleetTest, PastTheOfflineGraceTokenLoginsFailClosedUntilTheDatabaseIsBack) {
    const Host& host = add_host("web-1", "fleet_offline_grace = 3s\nfleet_poll_interval = 1s\n");
    const std::string token = create(host, {"ci"});
    ASSERT_TRUE(logs_in(host, token));
    pg->stop();
    ASSERT_TRUE(eventually([&] { return fleet_state(host).value("failing_closed", false); }));
    const ProcessResult r = login(host, token);
    EXPECT_FALSE(login_succeeded(r));
    EXPECT_TRUE(contains(r.err, "cannot retrieve authentication info")) << r.out << r.err;
    const std::string log = host.world->daemon_log();
    EXPECT_TRUE(contains(log, "fleet database unreachable: offline mode")) << log;
    // Why it refuses, with what the database said, once when the grace has
    // passed (each refused login names the reason too, without it).
    const std::regex fail_closed_line(
        "fleet mode: the fleet database has been unreachable for longer than "
        "fleet_offline_grace \\(last synced at [0-9]+\\); failing closed: connection to "
        "server on socket");
    EXPECT_EQ(std::distance(std::sregex_iterator(log.begin(), log.end(), fail_closed_line),
                            std::sregex_iterator()),
              1)
        << log;
    // And what is wrong, in status: the server's socket is gone.
    const std::string problem = fleet_state(host).value("problem", "");
    EXPECT_TRUE(contains(problem, "connection to server on socket") &&
                contains(problem, "No such file or directory"))
        << problem;
    const ProcessResult status = ctl(host, host.world->root, {"status"});
    EXPECT_TRUE(contains(status.out, "fleet problem: ")) << status.out;
    EXPECT_TRUE(contains(status.out, "No such file or directory")) << status.out;

    pg->start();
    EXPECT_TRUE(eventually([&] { return logs_in(host, token); })) << host.world->daemon_log();
    EXPECT_TRUE(contains(host.world->daemon_log(), "fleet database reachable again"));
}

// A server that takes connections and never answers (SIGSTOP): logins go
// on from the replica, a write gives up within its bound, status answers.
TEST_F(FleetTest, AServerThatStopsAnsweringNeverHoldsLoginsOrStatus) {
    const Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    pg->freeze();
    const auto thaw = std::unique_ptr<PgCluster, void (*)(PgCluster*)>(
        pg.get(), [](PgCluster* cluster) { cluster->thaw(); });
    EXPECT_TRUE(logs_in(a, token));
    const auto start = std::chrono::steady_clock::now();
    const ProcessResult refused = ctl(a, a.world->alice, {"create", "frozen"});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_TRUE(contains(refused.err, "fleet database unreachable")) << refused.err;
    // The write's bound is 3 s; generous for a loaded machine.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    EXPECT_TRUE(logs_in(a, token));
    EXPECT_EQ(ctl(a, a.world->root, {"status"}).exit_code, 0);
    // Revocations are queued, never refused.
    EXPECT_EQ(ctl(a, a.world->alice, {"revoke", id_of(token)}).exit_code, 0);
    EXPECT_FALSE(logs_in(a, token));
}

// A new host starts from a snapshot whatever the log holds; the branch for
// a host whose place was pruned is AHostWhosePlaceInTheLogWasPrunedResyncs...
TEST_F(FleetTest, ANewHostBehindAPrunedLogResyncsFromASnapshot) {
    const Host& a = add_host("web-1");
    const std::string first = create(a, {"first"});
    const std::string second = create(a, {"second"});
    ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(first)}).exit_code, 0);
    const ProcessResult pruned = pg->psql("SELECT apitoken_fleet.prune_changes(1000000)");
    ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
    const Host& b = add_host("web-2");
    EXPECT_TRUE(logs_in(b, second)) << b.world->daemon_log();
    EXPECT_FALSE(logs_in(b, first));
}

TEST_F(FleetTest, ASchemaChangedBehindItsBackIsReportedAndTheReplicaKept) {
    const Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    ASSERT_EQ(a.world->stop_daemon(), 0);
    ASSERT_EQ(pg->psql("DROP FUNCTION apitoken_fleet.delete_token(text, text)").exit_code, 0);
    a.world->start_daemon(); // within the grace of its last sync: serves
    EXPECT_TRUE(eventually([&] {
        return contains(fleet_state(a).value("problem", ""), "changed behind apitoken's back");
    }));
    EXPECT_TRUE(logs_in(a, token));
    EXPECT_EQ(fleet_state(a).value("connected", true), false);
}

TEST_F(FleetTest, ADatabaseOfANewerSchemaIsRefusedAndTheReplicaKept) {
    const Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    ASSERT_EQ(a.world->stop_daemon(), 0);
    ASSERT_EQ(pg->psql("UPDATE apitoken_fleet.meta SET value = '99' WHERE key = "
                       "'schema_version'")
                  .exit_code,
              0);
    a.world->start_daemon(); // within the grace of its last sync: serves
    EXPECT_TRUE(eventually(
        [&] { return contains(fleet_state(a).value("problem", ""), "newer than this apitoken"); }));
    EXPECT_TRUE(logs_in(a, token));
}

TEST_F(FleetTest, UsesOnEveryHostAddUpInTheListOfEach) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string token = create(a, {"ci"});
    ASSERT_TRUE(eventually([&] { return logs_in(b, token); }));
    ASSERT_TRUE(logs_in(a, token));
    // Uses are kept to the second: b's last one is the later one.
    std::this_thread::sleep_for(1100ms);
    ASSERT_TRUE(logs_in(b, token));
    // 1 on a, 2 on b (the first of b's came with the wait above).
    EXPECT_TRUE(eventually([&] { return shown(a, token).value("use_count", 0) == 3; }))
        << shown(a, token).dump();
    const json on_a = shown(a, token);
    EXPECT_EQ(on_a.value("last_host", ""), "web-2") << on_a.dump();
    // One row per token and host (one statement per flush: see
    // AHostSendsItsUsesInOneStatementPerFlushIntervalNotOnePerLogin).
    EXPECT_EQ(usage_rows(), "web-1:1\nweb-2:2\n");
}

// Uses the database could not take yet are kept on disk, not in memory:
// a restart during the outage loses none of them from the fleet's counts.
TEST_F(FleetTest, UsesMadeWhileTheDatabaseIsDownCountOnceItIsBackAlsoAfterARestart) {
    hosts.reserve(2);
    Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string token = create(a, {"ci"});
    ASSERT_TRUE(eventually([&] { return logs_in(b, token); }));
    ASSERT_TRUE(eventually([&] { return usage_rows() == "web-2:1\n"; })) << usage_rows();
    pg->stop();
    ASSERT_TRUE(eventually([&] { return !fleet_state(a).value("connected", true); }));
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(logs_in(a, token));
    }
    ASSERT_EQ(a.world->stop_daemon(), 0) << a.world->daemon_log();
    pg->start();
    a.world->start_daemon();
    EXPECT_TRUE(eventually([&] { return usage_rows() == "web-1:3\nweb-2:1\n"; }))
        << usage_rows() << a.world->daemon_log();
    EXPECT_TRUE(eventually([&] { return shown(b, token).value("use_count", 0) == 4; }))
        << shown(b, token).dump();
}

TEST_F(FleetTest, ATokenWithAUseLimitNamesExactlyOneHost) {
    const Host& a = add_host("web-1");
    const ProcessResult refused = ctl(a, a.world->alice, {"create", "once", "--max-uses=1"});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_TRUE(contains(refused.err, "must name exactly one host")) << refused.err;
    const std::string once = create(a, {"once", "--max-uses=1", "--host=web-1"});
    EXPECT_TRUE(logs_in(a, once));
    EXPECT_FALSE(logs_in(a, once));
}

TEST_F(FleetTest, ConnectionsKilledByTheServerAreMadeAgainAndNothingIsMissed) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string before = create(a, {"before"});
    ASSERT_TRUE(eventually([&] { return logs_in(b, before); }));
    const ProcessResult killed = pg->psql("SELECT count(pg_terminate_backend(pid)) FROM "
                                          "pg_stat_activity WHERE application_name = 'apitokend'");
    ASSERT_EQ(killed.exit_code, 0) << killed.err;
    EXPECT_NE(killed.out, "0\n");
    // The writer's connection was among them: the write goes through a new one.
    const std::string after = create(a, {"after"});
    ASSERT_FALSE(after.empty());
    EXPECT_TRUE(eventually([&] { return logs_in(b, after); })) << b.world->daemon_log();
    EXPECT_TRUE(eventually([&] { return fleet_state(b).value("connected", false); }));
}

// The LISTEN connection is the loop's (a source in sd-event), apart from
// the follower's queries: when the server drops it alone, the daemon opens
// another, and changes are heard through it again. web-2 polls and sends
// its uses every 10 minutes here, so only a notification can bring the
// revocation in time (the check reads its status, which uses nothing).
TEST_F(FleetTest, AListenConnectionDroppedByTheServerIsOpenedAgainAndHearsChanges) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    const Host& b =
        add_host("web-2", "fleet_poll_interval = 10m\nfleet_usage_flush_interval = 10m\n");
    ASSERT_TRUE(eventually([&] { return logs_in(b, token); })) << b.world->daemon_log();
    const std::string listening = "application_name = 'apitokend' AND query = 'LISTEN "
                                  "apitoken_changes'";
    const auto listeners = [&](const std::string& since) {
        return pg
            ->psql("SELECT count(*) FROM pg_stat_activity WHERE " + listening +
                   " AND backend_start > '" + since + "'::timestamptz")
            .out;
    };
    ASSERT_TRUE(eventually([&] { return listeners("-infinity") == "2\n"; }));
    std::string before_kill = pg->psql("SELECT now()").out;
    before_kill = before_kill.substr(0, before_kill.find('\n'));
    const ProcessResult killed = pg->psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE " + listening);
    ASSERT_EQ(killed.exit_code, 0) << killed.err;
    EXPECT_EQ(killed.out, "2\n");
    EXPECT_TRUE(eventually([&] {
        return contains(b.world->daemon_log(), "closed the LISTEN connection");
    })) << b.world->daemon_log();
    ASSERT_TRUE(eventually([&] { return listeners(before_kill) == "2\n"; }))
        << listeners(before_kill) << b.world->daemon_log();

    ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(token)}).exit_code, 0);
    const std::uint64_t revoked = log_end();
    EXPECT_TRUE(eventually([&] { return applied_through(b, revoked); })) << b.world->daemon_log();
    EXPECT_FALSE(logs_in(b, token));
    EXPECT_TRUE(fleet_state(b).value("connected", false));
}

// Backends that stop answering mid-statement (a hung server, a dead peer
// whose kernel still acknowledges): the daemon stops at once, instead of
// waiting out the follower's 60 s bound on a statement.
TEST_F(FleetTest, ADaemonStopsAtOnceWhileTheDatabaseHoldsItsStatements) {
    Host& a = add_host("web-1", "fleet_poll_interval = 1s\n");
    const std::string token = create(a, {"ci"});
    ASSERT_FALSE(token.empty());
    const ProcessResult listed =
        pg->psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'apitokend'");
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    // Resumed however the test ends, so that the cluster can stop.
    struct StoppedProcesses {
        std::vector<pid_t> pids;
        StoppedProcesses() = default;
        StoppedProcesses(const StoppedProcesses&) = delete;
        StoppedProcesses& operator=(const StoppedProcesses&) = delete;
        StoppedProcesses(StoppedProcesses&&) = delete;
        StoppedProcesses& operator=(StoppedProcesses&&) = delete;
        ~StoppedProcesses() {
            for (const pid_t pid : pids) {
                ::kill(pid, SIGCONT);
            }
        }
    } backends;
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
        const auto pid = static_cast<pid_t>(std::stol(line));
        ASSERT_EQ(::kill(pid, SIGSTOP), 0);
        backends.pids.push_back(pid);
    }
    ASSERT_FALSE(backends.pids.empty());
    // The write waits out its 3 s bound; the revocation is queued, and the
    // follower, woken to send it, sends it into a backend that never
    // answers (or its 1 s poll does).
    EXPECT_EQ(ctl(a, a.world->alice, {"revoke", id_of(token)}).exit_code, 0);
    EXPECT_FALSE(logs_in(a, token));
    EXPECT_EQ(a.world->stop_daemon(), 0) << a.world->daemon_log();
}

TEST_F(FleetTest, AHostKilledWhileTheFleetChangesCatchesUpWithEverything) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    std::vector<std::string> tokens;
    for (int i = 0; i < 6; ++i) {
        tokens.push_back(create(a, {"t" + std::to_string(i)}));
        if (i == 2) {
            b.world->kill_daemon(); // while it follows
        }
    }
    for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(tokens[i])}).exit_code, 0);
    }
    b.world->start_daemon();
    ASSERT_TRUE(eventually([&] { return logs_in(b, tokens.back()); })) << b.world->daemon_log();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        EXPECT_EQ(logs_in(b, tokens[i]), i >= 3) << "token " << i;
    }
}

TEST_F(FleetTest, AWrongConninfoOrRoleIsShownInStatusAndTheReplicaServesWithinItsGrace) {
    Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    ASSERT_EQ(a.world->stop_daemon(), 0);
    const std::string base = "\nfleet_host_name = web-1\nfleet_poll_interval = 2s\n";
    a.world->set_config("fleet_database = " + pg->conninfo() + " dbname=nowhere" + base);
    a.world->start_daemon(); // synced before: within the grace, READY at once
    EXPECT_TRUE(eventually([&] {
        return contains(fleet_state(a).value("problem", ""), "\"nowhere\" does not exist");
    }));
    EXPECT_TRUE(logs_in(a, token));
    EXPECT_TRUE(contains(ctl(a, a.world->root, {"status"}).out, "OFFLINE"));
    // What the database said is for root and admins; the rest see the state.
    const json as_alice = fleet_state(a, &a.world->alice);
    EXPECT_FALSE(as_alice.contains("problem")) << as_alice.dump();
    EXPECT_EQ(as_alice.value("connected", true), false);
    ASSERT_EQ(a.world->stop_daemon(), 0);
    a.world->set_config("fleet_database = " + pg->conninfo("nobody") + base);
    a.world->start_daemon();
    EXPECT_TRUE(eventually([&] {
        return contains(fleet_state(a).value("problem", ""), "role \"nobody\" does not exist");
    }));
    EXPECT_TRUE(logs_in(a, token));
}

// A host that has not seen the latest change (web-2 only polls, every 10
// minutes here) cannot undo it: a change made there to a token revoked or
// changed elsewhere is refused, and the revocation stays.
TEST_F(FleetTest, AHostBehindCannotBringBackARevokedTokenOrUndoAChange) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const std::string revoked = create(a, {"revoked"});
    const std::string renamed = create(a, {"renamed"});
    const Host& b = add_host("web-2", "fleet_listen = no\nfleet_poll_interval = 10m\n");
    ASSERT_TRUE(logs_in(b, revoked)); // in its first sync
    ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(revoked)}).exit_code, 0);
    ASSERT_EQ(ctl(a, a.world->alice, {"rename", id_of(renamed), "by-web-1"}).exit_code, 0);

    const ProcessResult back = ctl(b, b.world->alice, {"rename", id_of(revoked), "back"});
    EXPECT_NE(back.exit_code, 0);
    EXPECT_TRUE(contains(back.err, "was revoked")) << back.err;
    const ProcessResult undo = ctl(b, b.world->alice, {"rename", id_of(renamed), "by-web-2"});
    EXPECT_NE(undo.exit_code, 0);
    EXPECT_TRUE(contains(undo.err, "changed on another host meanwhile")) << undo.err;

    EXPECT_EQ(
        pg->psql("SELECT count(*) FROM apitoken_fleet.tokens WHERE id = '" + id_of(revoked) + "'")
            .out,
        "0\n");
    EXPECT_FALSE(logs_in(a, revoked));
    EXPECT_TRUE(contains(ctl(a, a.world->alice, {"list"}).out, "by-web-1"));
    // A revocation from the host behind still goes through.
    EXPECT_EQ(ctl(b, b.world->alice, {"revoke", id_of(renamed)}).exit_code, 0);
    EXPECT_TRUE(eventually([&] { return !logs_in(a, renamed); }));
}

// A database restored from a dump (its change log went back) or another
// database: replicas notice and start again from a snapshot.
TEST_F(FleetTest, ADatabaseWhoseLogWentBackIsFollowedFromASnapshot) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    for (int i = 0; i < 3; ++i) {
        create(a, {"t" + std::to_string(i)});
    }
    const std::string victim = create(a, {"victim"});
    ASSERT_TRUE(eventually([&] { return logs_in(b, victim); }));
    // As after a restore of an older dump: the log's sequence goes back.
    ASSERT_EQ(pg->psql("DELETE FROM apitoken_fleet.changes; "
                       "SELECT setval('apitoken_fleet.changes_seq_seq', 1, false);")
                  .exit_code,
              0);
    ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(victim)}).exit_code, 0);
    EXPECT_TRUE(eventually([&] { return !logs_in(b, victim); })) << b.world->daemon_log();
}

// A host that ran alone until now joins the fleet with its tokens: they go
// to the database before the first sync, which would otherwise drop them.
TEST_F(FleetTest, AStoreThatWasASingleHostsJoinsTheFleetWithItsTokens) {
    hosts.reserve(2);
    Host& a = hosts.emplace_back(Host{"web-1", std::make_unique<TestWorld>()});
    a.world->write_pam_service("sshd", "auth required " APITOKEN_PAM_MODULE "\n");
    a.world->start_daemon();
    const std::string token = create(a, {"from-before"});
    ASSERT_TRUE(logs_in(a, token));
    ASSERT_EQ(a.world->stop_daemon(), 0);
    a.world->set_config("fleet_database = " + pg->conninfo() +
                        "\nfleet_host_name = web-1\nfleet_poll_interval = 2s\n");
    a.world->start_daemon();
    EXPECT_TRUE(logs_in(a, token)) << a.world->daemon_log();
    EXPECT_EQ(
        pg->psql("SELECT count(*) FROM apitoken_fleet.tokens WHERE id = '" + id_of(token) + "'")
            .out,
        "1\n");
    const Host& b = add_host("web-2");
    EXPECT_TRUE(logs_in(b, token));
}

// Each host logs in with a role of its own. A host role (apitoken_host)
// writes only in its own name and only tokens for itself alone; an
// apitoken_fleet_admin host (here the superuser's) makes fleet-wide ones.
// Neither writes a table directly.
TEST_F(FleetTest, AHostRoleWritesOnlyForItselfAndNeverTheTablesThemselves) {
    const ProcessResult roles =
        pg->psql("CREATE ROLE apitoken_host NOLOGIN; CREATE ROLE apitoken_fleet_admin NOLOGIN; "
                 "CREATE ROLE \"web-1\" LOGIN IN ROLE apitoken_host; "
                 "CREATE ROLE \"web-2\" LOGIN IN ROLE apitoken_host; "
                 "CREATE ROLE \"admin-2\" LOGIN IN ROLE apitoken_fleet_admin;");
    ASSERT_EQ(roles.exit_code, 0) << roles.err;
    hosts.reserve(3);
    const Host& admin = add_host("admin-1"); // creates the schema and its grants
    const Host& web = add_host("web-1", "", "web-1");
    // Both roles got their grants with the schema.
    EXPECT_EQ(pg->psql("SELECT count(*) FROM apitoken_fleet.tokens", "admin-2").exit_code, 0);

    // Fleet-wide from a host role: refused by the database, nothing made.
    const ProcessResult wide = ctl(web, web.world->alice, {"create", "wide"});
    EXPECT_NE(wide.exit_code, 0);
    EXPECT_TRUE(contains(wide.err, "may only make and change tokens for itself")) << wide.err;
    EXPECT_FALSE(contains(ctl(web, web.world->alice, {"list"}).out, "wide"));
    const std::string own = create(web, {"own", "--host=web-1"});
    EXPECT_TRUE(logs_in(web, own));

    // A fleet-wide token from the admin host reaches web-1, whose user may
    // revoke it there (it is valid there); the revocation reaches admin-1.
    const std::string shared = create(admin, {"shared"});
    ASSERT_TRUE(eventually([&] { return logs_in(web, shared); })) << web.world->daemon_log();
    EXPECT_FALSE(logs_in(admin, own));
    ASSERT_EQ(ctl(web, web.world->alice, {"revoke", id_of(shared)}).exit_code, 0);
    EXPECT_TRUE(eventually([&] { return !logs_in(admin, shared); }));

    // What a compromised web-1 could try with its role, straight in SQL.
    const std::string record = "'\\x00'::bytea";
    EXPECT_TRUE(contains(pg->psql("INSERT INTO apitoken_fleet.tokens VALUES ('aaaaaaaaaaaa', "
                                  "'root', '{}', " +
                                      record + ", 'web-1')",
                                  "web-1")
                             .err,
                         "permission denied"));
    EXPECT_TRUE(contains(pg->psql("SELECT apitoken_fleet.put_token('aaaaaaaaaaaa', 'root', "
                                  "'{}', " +
                                      record + ", 'web-1', NULL)",
                                  "web-1")
                             .err,
                         "itself alone"));
    EXPECT_TRUE(contains(pg->psql("SELECT apitoken_fleet.put_token('aaaaaaaaaaaa', 'root', "
                                  "ARRAY['web-2'], " +
                                      record + ", 'web-2', NULL)",
                                  "web-1")
                             .err,
                         "only in its own name"));
    EXPECT_TRUE(contains(pg->psql("SELECT apitoken_fleet.put_token('" + id_of(own) +
                                      "', 'alice', ARRAY['web-1'], " + record + ", 'web-1', NULL)",
                                  "web-2")
                             .err,
                         "only in its own name"));
}

// A host that followed the log, and was away while the log was pruned past
// its place: a prune keeps the log's last change, so the log alone would
// bring it that one only; the revocation and the rename made before it
// reach the host only through a snapshot.
TEST_F(FleetTest, AHostWhosePlaceInTheLogWasPrunedResyncsFromASnapshot) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    const std::string doomed = create(a, {"doomed"});
    const std::string renamed = create(a, {"renamed"});
    const std::uint64_t synced = log_end();
    ASSERT_TRUE(eventually([&] { return applied_through(b, synced); })) << b.world->daemon_log();
    ASSERT_TRUE(logs_in(b, doomed));
    ASSERT_EQ(b.world->stop_daemon(), 0) << b.world->daemon_log();
    const std::string resynced = "replica resynchronised from a snapshot";
    const std::size_t snapshots_before = occurrences(b.world->daemon_log(), resynced);

    ASSERT_EQ(ctl(a, a.world->alice, {"revoke", id_of(doomed)}).exit_code, 0);
    ASSERT_EQ(ctl(a, a.world->alice, {"rename", id_of(renamed), "renamed-on-web-1"}).exit_code, 0);
    const std::string fresh = create(a, {"fresh"}); // the last change: the one a prune keeps
    const ProcessResult pruned = pg->psql("SELECT apitoken_fleet.prune_changes((SELECT "
                                          "max(seq) FROM apitoken_fleet.changes))");
    ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
    ASSERT_GT(std::stoull(pruned.out), synced) << "not pruned past web-2's place";

    b.world->start_daemon(); // within the grace of its last sync: serves at once
    EXPECT_TRUE(eventually([&] { return logs_in(b, fresh); })) << b.world->daemon_log();
    EXPECT_FALSE(logs_in(b, doomed)) << b.world->daemon_log();
    EXPECT_TRUE(contains(ctl(b, b.world->alice, {"list"}).out, "renamed-on-web-1"));
    EXPECT_EQ(occurrences(b.world->daemon_log(), resynced), snapshots_before + 1)
        << b.world->daemon_log();
}

// update and rotate made on one host reach the others: the new settings,
// the new token, and the old one until its grace is over.
TEST_F(FleetTest, AnUpdateAndARotationOnOneHostReachTheOthers) {
    hosts.reserve(2);
    const Host& a = add_host("web-1");
    const Host& b = add_host("web-2");
    b.world->write_pam_service("vsftpd", "auth required " APITOKEN_PAM_MODULE "\n");
    const auto login_to = [&](const std::string& service, const std::string& token) {
        return login_succeeded(b.world->pamtester(b.world->root, service, "alice", token + "\n"));
    };
    const std::string old = create(a, {"ci"});
    ASSERT_TRUE(eventually([&] { return login_to("sshd", old); })) << b.world->daemon_log();

    const ProcessResult updated =
        ctl(a, a.world->alice, {"update", id_of(old), "--description=deploys", "--service=vsftpd"});
    ASSERT_EQ(updated.exit_code, 0) << updated.err;
    EXPECT_TRUE(eventually([&] { return shown(b, old).value("description", "") == "deploys"; }))
        << shown(b, old).dump();
    EXPECT_EQ(shown(b, old).value("services", json::array()), json::array({"vsftpd"}));
    EXPECT_FALSE(login_to("sshd", old));
    EXPECT_TRUE(login_to("vsftpd", old));

    constexpr auto kGrace = 20s;
    const auto rotated_at = std::chrono::steady_clock::now();
    const ProcessResult rotated = ctl(a, a.world->alice, {"rotate", id_of(old), "--grace=20s"});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
    const std::string fresh = rotated.out.substr(0, rotated.out.find('\n'));
    ASSERT_TRUE(std::regex_match(fresh, std::regex("atk_[0-9a-f]{52}"))) << rotated.out;
    EXPECT_TRUE(eventually([&] { return login_to("vsftpd", fresh); })) << b.world->daemon_log();
    const json on_b = shown(b, fresh);
    EXPECT_EQ(on_b.value("rotated_from", ""), id_of(old)) << on_b.dump();
    EXPECT_EQ(on_b.value("description", ""), "deploys") << on_b.dump();
    // Within its grace the old one still works there (checked only while
    // well within it: a loaded machine may have taken its time).
    if (std::chrono::steady_clock::now() < rotated_at + kGrace - 8s) {
        EXPECT_TRUE(login_to("vsftpd", old));
    }
    EXPECT_TRUE(eventually([&] { return !login_to("vsftpd", old); })) << b.world->daemon_log();
    EXPECT_GE(std::chrono::steady_clock::now() - rotated_at, kGrace - 2s);
    EXPECT_TRUE(login_to("vsftpd", fresh));
}

// With the database down, every write but a revocation is refused in plain
// words and changes nothing.
TEST_F(FleetTest, WithTheDatabaseDownRenameUpdateAndRotateAreRefusedButRevokeIsNot) {
    const Host& a = add_host("web-1");
    const std::string token = create(a, {"ci"});
    const std::string other = create(a, {"other"});
    pg->stop();
    ASSERT_TRUE(eventually([&] { return !fleet_state(a).value("connected", true); }));
    const std::vector<std::vector<std::string>> writes{
        {"rename", id_of(token), "renamed"},
        {"update", id_of(token), "--description=changed"},
        {"rotate", id_of(token), "--grace=1h"}};
    for (const auto& write : writes) {
        const ProcessResult refused = ctl(a, a.world->alice, write);
        EXPECT_NE(refused.exit_code, 0) << write[0];
        EXPECT_TRUE(contains(refused.err, "fleet database unreachable"))
            << write[0] << ": " << refused.out << refused.err;
    }
    const json kept = shown(a, token);
    EXPECT_EQ(kept.value("name", ""), "ci") << kept.dump();
    EXPECT_EQ(kept.value("description", "?"), "") << kept.dump();
    EXPECT_TRUE(kept.value("rotated_to", json()).is_null()) << kept.dump();
    EXPECT_TRUE(logs_in(a, token));
    EXPECT_EQ(ctl(a, a.world->alice, {"list"}).out.find("renamed"), std::string::npos);

    const ProcessResult revoked = ctl(a, a.world->alice, {"revoke", id_of(other)});
    EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
    EXPECT_FALSE(logs_in(a, other));
    EXPECT_EQ(fleet_state(a).value("queued_revocations", 0), 1);
}

// fleet_create_scope = this-host: a token its user makes on web-1 is for
// web-1 alone; its user cannot widen it, an admin can.
TEST_F(FleetTest, WithCreateScopeThisHostATokenWorksOnlyWhereItWasMadeUntilAnAdminWidensIt) {
    hosts.reserve(2);
    const Host& a = add_host("web-1", "fleet_create_scope = this-host\n");
    const Host& b = add_host("web-2");
    const std::string token = create(a, {"local"});
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(shown(a, token).value("hosts", json::array()), json::array({"web-1"}));
    EXPECT_TRUE(logs_in(a, token));
    const std::uint64_t made = log_end();
    ASSERT_TRUE(eventually([&] { return applied_through(b, made); })) << b.world->daemon_log();
    EXPECT_FALSE(logs_in(b, token));
    EXPECT_FALSE(contains(ctl(b, b.world->alice, {"list"}).out, "local"));

    const ProcessResult wider = ctl(a, a.world->alice, {"update", id_of(token), "--host=web-*"});
    EXPECT_NE(wider.exit_code, 0);
    EXPECT_TRUE(contains(wider.err, "fleet_create_scope = this-host")) << wider.err;
    const ProcessResult widened =
        ctl(a, a.world->admin, {"update", id_of(token), "--host=web-*", "--user=alice"});
    ASSERT_EQ(widened.exit_code, 0) << widened.err;
    EXPECT_TRUE(eventually([&] { return logs_in(b, token); })) << b.world->daemon_log();
    EXPECT_TRUE(logs_in(a, token));
}

// The record keeps the uid at creation. A host whose NSS gives its user
// another uid refuses the token with fleet_match_uid = yes (the default),
// and accepts it with no, where it is another account's (orphaned) token:
// its user does not see it there, root does.
TEST_F(FleetTest, FleetMatchUidDecidesWhetherAHostWhereTheUserHasAnotherUidAcceptsTheToken) {
    hosts.reserve(3);
    const Host& a = add_host("web-1");
    const Host& strict = add_host("web-2");
    const Host& lenient = add_host("web-3", "fleet_match_uid = no\n");
    strict.world->change_uid("alice", 61999);
    lenient.world->change_uid("alice", 61999);
    const std::string token = create(a, {"ci"});
    ASSERT_TRUE(logs_in(a, token));
    const std::uint64_t made = log_end();
    ASSERT_TRUE(eventually([&] { return applied_through(strict, made); }))
        << strict.world->daemon_log();
    ASSERT_TRUE(eventually([&] { return applied_through(lenient, made); }))
        << lenient.world->daemon_log();

    EXPECT_FALSE(logs_in(strict, token));
    EXPECT_TRUE(contains(strict.world->daemon_log(), "uid changed")) << strict.world->daemon_log();
    EXPECT_TRUE(logs_in(lenient, token)) << lenient.world->daemon_log();

    const TestUser other_alice{"alice", 61999, {}};
    const ProcessResult own = ctl(lenient, other_alice, {"list"});
    EXPECT_EQ(own.exit_code, 0) << own.err;
    EXPECT_FALSE(contains(own.out, id_of(token))) << own.out;
    const ProcessResult seen =
        ctl(lenient, lenient.world->root, {"show", id_of(token), "--user=alice", "--json"});
    ASSERT_EQ(seen.exit_code, 0) << seen.err;
    EXPECT_TRUE(json::parse(seen.out).value("orphaned", false)) << seen.out;
}

// Usage goes to the database in one statement per flush interval per host,
// however many logins: record_usage (the one way a host writes usage) is
// called once or twice for logins spread over less than one interval.
TEST_F(FleetTest, AHostSendsItsUsesInOneStatementPerFlushIntervalNotOnePerLogin) {
    constexpr auto kInterval = 20s;
    constexpr int kLogins = 8;
    Host& a = add_host("web-1", "fleet_usage_flush_interval = 20s\n");
    const std::string token = create(a, {"ci"});
    ASSERT_FALSE(token.empty());
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kLogins; ++i) {
        if (i > 0) {
            // Further apart than the local usage flush (1 s), so that a host
            // that wrote each batch of uses as it came would write 8 times.
            std::this_thread::sleep_for(1500ms);
        }
        ASSERT_TRUE(logs_in(a, token));
    }
    const auto span = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(eventually([&] { return usage_rows() == "web-1:8\n"; })) << usage_rows();
    // A backend reports its function calls when idle for a while and at its
    // exit: the host goes, and so do its connections.
    ASSERT_EQ(a.world->stop_daemon(), 0) << a.world->daemon_log();
    ASSERT_TRUE(eventually([&] {
        return pg->psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                        "'apitokend'")
                   .out == "0\n";
    }));
    // The flushes that can carry these uses: those within the logins'
    // span, a second for the local flush, and one interval after it.
    const auto flushes = static_cast<std::uint64_t>((span + 1s) / kInterval) + 2;
    ASSERT_LT(flushes, static_cast<std::uint64_t>(kLogins)) << "the logins took too long to tell";
    const std::uint64_t calls = calls_of("record_usage");
    EXPECT_GE(calls, 1U);
    EXPECT_LE(calls, flushes) << "logins over "
                              << std::chrono::duration_cast<std::chrono::seconds>(span).count()
                              << " s";
}

} // namespace
} // namespace apitoken::testing
