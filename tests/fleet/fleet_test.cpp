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
#include <functional>
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
        // A poll every 2 s unless `extra` says otherwise.
        const std::string poll = contains(extra, "fleet_poll_interval")
                                     ? std::string()
                                     : std::string("fleet_poll_interval = 2s\n");
        host.world->set_config("fleet_database = " + pg->conninfo(role) +
                               "\nfleet_host_name = " + name + "\n" + poll +
                               "usage_flush_interval = 1s\nfleet_usage_flush_interval = 1s\n"
                               "throttle_max_failures = 1000\n" +
                               extra);
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
    EXPECT_TRUE(contains(host.world->daemon_log(), "fleet database unreachable: offline mode"));

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
    // One statement per flush per host, not one per login.
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

} // namespace
} // namespace apitoken::testing
