// apitokend through the real bus: a private dbus-daemon with the project's
// policy file, the daemon as an unprivileged user, callers of real uids.
#include "ipc/bus_api.hpp"
#include "tests/integration/time_limit.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

class DaemonTest : public WorldTest {
protected:
    // Creates a token; returns {id, token}.
    std::pair<std::string, std::string> create(const TestUser& as, const std::string& user,
                                               const std::string& name,
                                               const std::string& expires = "0",
                                               const std::vector<std::string>& services = {}) {
        std::vector<std::string> args{"create", user, name, expires};
        args.insert(args.end(), services.begin(), services.end());
        const CallResult r = world->call(as, args);
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.fields.size() >= 2 ? std::pair{r.fields[0], r.fields[1]}
                                    : std::pair<std::string, std::string>{};
    }

    CallResult auth(const TestUser& as, const std::string& user, const std::string& token,
                    const std::string& service = "sshd", const std::string& rhost = "192.0.2.1") {
        return world->call(as, {"auth", user, token, service, rhost});
    }
};

TEST_F(DaemonTest, TokenLifecycleThroughEveryMethod) {
    world->start_daemon();
    const auto& alice = world->alice;
    const auto [id, token] = create(alice, "", "ci-upload");
    EXPECT_EQ(id.size(), 12U);
    EXPECT_EQ(token.size(), 56U);
    EXPECT_EQ(token.substr(4, 12), id);

    EXPECT_TRUE(auth(alice, "", token).ok());
    const CallResult listed = world->call(alice, {"list", ""});
    ASSERT_TRUE(listed.ok()) << listed.raw;
    ASSERT_EQ(listed.lines.size(), 1U);
    EXPECT_TRUE(listed.lines[0].starts_with(id + " ci-upload ")) << listed.lines[0];

    EXPECT_TRUE(world->call(alice, {"rename", "", id, "nightly"}).ok());
    EXPECT_NE(world->call(alice, {"list", "alice"}).lines.at(0).find(" nightly "),
              std::string::npos);

    const CallResult status = world->call(alice, {"status"});
    ASSERT_TRUE(status.ok()) << status.raw;
    EXPECT_EQ(status.fields.at(1), "-") << "the total is not for ordinary users";
    EXPECT_EQ(world->call(world->root, {"status"}).fields.at(1), "1") << "TokenCount";
    EXPECT_EQ(world->call(world->admin, {"status"}).fields.at(1), "1") << "TokenCount";

    EXPECT_TRUE(world->call(alice, {"revoke", "", id}).ok());
    EXPECT_TRUE(auth(alice, "", token).refused("AuthenticationFailed"));
    EXPECT_TRUE(world->call(alice, {"revoke", "", id}).refused("NoSuchToken"));

    create(alice, "", "a");
    create(alice, "", "b");
    const CallResult all = world->call(alice, {"revoke-all", ""});
    EXPECT_TRUE(all.ok());
    EXPECT_EQ(all.fields.at(0), "2");
    EXPECT_EQ(world->call(alice, {"list", ""}).fields.at(0), "0");
}

// The vtable spells its signatures out for sd-bus; ipc/bus_api.hpp is what
// the clients build on. The running daemon must say exactly the latter.
TEST_F(DaemonTest, BusInterfaceIsTheSharedContract) {
    world->start_daemon();
    sd_bus* bus = nullptr;
    ASSERT_GE(sd_bus_new(&bus), 0);
    ASSERT_GE(sd_bus_set_address(bus, world->bus_address().c_str()), 0);
    ASSERT_GE(sd_bus_set_bus_client(bus, 1), 0);
    ASSERT_GE(sd_bus_start(bus), 0);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int r =
        sd_bus_call_method(bus, ipc::kBusName, ipc::kObjectPath,
                           "org.freedesktop.DBus.Introspectable", "Introspect", &error, &reply, "");
    const char* xml = nullptr;
    const bool read = r >= 0 && sd_bus_message_read(reply, "s", &xml) >= 0;
    const std::string text = read ? xml : "";
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    sd_bus_flush_close_unref(bus);
    ASSERT_TRUE(read) << "Introspect failed: " << r;

    // Method name -> {in signature, out signature}, from our interface's XML.
    std::smatch ours;
    ASSERT_TRUE(std::regex_search(text, ours,
                                  std::regex(std::string(R"re(<interface name=")re") +
                                             ipc::kInterface + R"re(">([\s\S]*?)</interface>)re")))
        << text;
    const std::string interface = ours[1];
    std::map<std::string, std::pair<std::string, std::string>> methods;
    const std::regex method(R"re(<method name="(\w+)">([\s\S]*?)</method>)re");
    const std::regex arg(R"re(<arg type="([^"]+)"[^>]*direction="(in|out)")re");
    for (auto m = std::sregex_iterator(interface.begin(), interface.end(), method);
         m != std::sregex_iterator(); ++m) {
        auto& [in, out] = methods[(*m)[1]];
        const std::string body = (*m)[2];
        for (auto a = std::sregex_iterator(body.begin(), body.end(), arg);
             a != std::sregex_iterator(); ++a) {
            ((*a)[2] == "in" ? in : out) += (*a)[1];
        }
    }
    namespace sig = ipc::signature;
    const std::map<std::string, std::pair<std::string, std::string>> contract{
        {ipc::method::kAuthenticate, {sig::kAuthenticateIn, sig::kAuthenticateOut}},
        {ipc::method::kCreateToken, {sig::kCreateTokenIn, sig::kCreateTokenOut}},
        {ipc::method::kListTokens, {sig::kListTokensIn, sig::kListTokensOut}},
        {ipc::method::kRevokeToken, {sig::kRevokeTokenIn, ""}},
        {ipc::method::kRevokeAllTokens, {sig::kRevokeAllTokensIn, sig::kRevokeAllTokensOut}},
        {ipc::method::kRenameToken, {sig::kRenameTokenIn, ""}},
        {ipc::method::kAuthenticateEx, {sig::kAuthenticateExIn, sig::kAuthenticateExOut}},
        {ipc::method::kListTokensEx, {sig::kListTokensExIn, sig::kListTokensExOut}},
        {ipc::method::kCreateTokenEx, {sig::kCreateTokenExIn, sig::kCreateTokenExOut}},
        {ipc::method::kUpdateToken, {sig::kUpdateTokenIn, ""}},
        {ipc::method::kRotateToken, {sig::kRotateTokenIn, sig::kRotateTokenOut}},
        {ipc::method::kRevokeTokens, {sig::kRevokeTokensIn, sig::kRevokeTokensOut}},
        {ipc::method::kLookupTokens, {sig::kLookupTokensIn, sig::kLookupTokensOut}},
        {ipc::method::kRevokeLeakedTokens,
         {sig::kRevokeLeakedTokensIn, sig::kRevokeLeakedTokensOut}},
        {ipc::method::kImportTokens, {sig::kImportTokensIn, sig::kImportTokensOut}},
    };
    EXPECT_EQ(methods, contract) << text;
}

TEST_F(DaemonTest, AuthenticateAuthorizationTable) {
    world->start_daemon();
    const auto [id, token] = create(world->root, "alice", "t");
    EXPECT_TRUE(auth(world->root, "alice", token).ok()) << "root";
    EXPECT_TRUE(auth(world->alice, "alice", token).ok()) << "the user themself";
    EXPECT_TRUE(auth(world->alice, "", token).ok()) << "the user themself, as \"\"";
    EXPECT_TRUE(auth(world->www, "alice", token).ok()) << "member of apitoken-auth";
    EXPECT_TRUE(auth(world->bob, "alice", token).refused("AccessDenied")) << "another user";
    EXPECT_TRUE(auth(world->admin, "alice", token).refused("AccessDenied"))
        << "apitoken-admin does not grant Authenticate";
    EXPECT_TRUE(auth(world->bob, "nosuchuser", token).refused("AccessDenied"))
        << "an ordinary caller must not learn whether a user exists";
    EXPECT_TRUE(auth(world->www, "nosuchuser", token).refused("NoSuchUser"));
    EXPECT_NE(
        world->daemon_log().find(R"(call refused: access denied user="alice" caller_uid="61002")"),
        std::string::npos)
        << world->daemon_log();
}

// apitokend starts checking a token while the bus is still saying who asked;
// a caller who may not ask must still learn nothing and change nothing.
TEST_F(DaemonTest, ARefusedCallerLearnsNothingAndLeavesNoUse) {
    world->set_config("usage_flush_interval = 1h\n");
    world->start_daemon();
    const auto [id, token] = create(world->root, "alice", "t");
    std::string malformed = token;
    malformed.back() = malformed.back() == '0' ? '1' : '0';
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(auth(world->bob, "alice", token).refused("AccessDenied")) << "the right token";
        EXPECT_TRUE(auth(world->bob, "alice", malformed).refused("AccessDenied")) << "a broken one";
        EXPECT_TRUE(auth(world->bob, "alice", "junk").refused("AccessDenied")) << "junk";
    }
    EXPECT_EQ(world->stop_daemon(), 0); // flushes usage
    EXPECT_EQ(world->daemon_log().find("token authentication succeeded"), std::string::npos)
        << world->daemon_log();
    EXPECT_EQ(world->daemon_log().find("throttl"), std::string::npos) << world->daemon_log();
    world->start_daemon();
    const CallResult listed = world->call(world->root, {"list", "alice"});
    ASSERT_TRUE(listed.ok()) << listed.raw;
    ASSERT_EQ(listed.lines.size(), 1U);
    std::istringstream fields(listed.lines[0]);
    std::string field;
    std::vector<std::string> columns;
    while (fields >> field) {
        columns.push_back(field);
    }
    ASSERT_GE(columns.size(), 6U);
    EXPECT_EQ(columns[5], "0") << "use count after refused calls: " << listed.lines[0];
    EXPECT_TRUE(auth(world->alice, "alice", token).ok()) << "the owner is not throttled";
}

TEST_F(DaemonTest, ManagementAuthorizationTable) {
    world->start_daemon();
    const auto& w = *world;
    struct Row {
        const TestUser* caller;
        bool allowed;
    };
    const Row rows[] = {
        {&w.alice, true}, {&w.root, true}, {&w.admin, true}, {&w.bob, false}, {&w.www, false}};
    int n = 0;
    for (const auto& row : rows) {
        const std::string who = row.caller->name;
        const std::string name = "by-" + who + std::to_string(n++);
        const CallResult created = world->call(*row.caller, {"create", "alice", name, "0"});
        const CallResult listed = world->call(*row.caller, {"list", "alice"});
        const CallResult renamed =
            world->call(*row.caller, {"rename", "alice", "000000000000", "x"});
        const CallResult revoked = world->call(*row.caller, {"revoke", "alice", "000000000000"});
        const CallResult all = world->call(*row.caller, {"revoke-all", "alice"});
        if (row.allowed) {
            EXPECT_TRUE(created.ok()) << who << ": " << created.raw;
            EXPECT_TRUE(listed.ok()) << who << ": " << listed.raw;
            EXPECT_TRUE(renamed.refused("NoSuchToken")) << who << ": " << renamed.raw;
            EXPECT_TRUE(revoked.refused("NoSuchToken")) << who << ": " << revoked.raw;
            EXPECT_TRUE(all.ok()) << who << ": " << all.raw;
        } else {
            for (const auto* r : {&created, &listed, &renamed, &revoked, &all}) {
                EXPECT_TRUE(r->refused("AccessDenied")) << who << ": " << r->raw;
            }
        }
    }
}

TEST_F(DaemonTest, EveryKindOfWrongTokenGetsTheSameError) {
    world->set_config("throttle_max_failures = 100\n");
    world->start_daemon();
    const auto& alice = world->alice;
    const auto [id, token] = create(alice, "", "good");
    const auto [scoped_id, scoped] = create(alice, "", "ftp only", "0", {"vsftpd"});
    const auto [bob_id, bob_token] = create(world->bob, "", "bobs");

    std::string wrong_secret = token;
    wrong_secret[20] = wrong_secret[20] == 'a' ? 'b' : 'a'; // breaks the checksum: malformed
    EXPECT_TRUE(auth(alice, "", wrong_secret).refused("AuthenticationFailed"));
    EXPECT_TRUE(auth(alice, "", "hunter2").refused("AuthenticationFailed"));
    EXPECT_TRUE(auth(alice, "", std::string(100'000, 'a')).refused("AuthenticationFailed"));
    EXPECT_TRUE(auth(alice, "", bob_token).refused("AuthenticationFailed"))
        << "someone else's token";
    EXPECT_TRUE(auth(alice, "", scoped, "sshd").refused("AuthenticationFailed")) << "out of scope";
    EXPECT_TRUE(auth(alice, "", scoped, "vsftpd").ok()) << "in scope";
    EXPECT_TRUE(auth(alice, "", token).ok());

    const std::string log = world->daemon_log();
    for (const char* reason :
         {"malformed token", "no such token for this user", "not allowed for this service"}) {
        EXPECT_NE(log.find(reason), std::string::npos) << "the log says why: " << reason;
    }
}

TEST_F(DaemonTest, ExpiredTokenFails) {
    world->start_daemon();
    const auto soon = std::to_string(std::time(nullptr) + 2);
    const auto [id, token] = create(world->alice, "", "short", soon);
    EXPECT_TRUE(auth(world->alice, "", token).ok());
    std::this_thread::sleep_for(3s);
    EXPECT_TRUE(auth(world->alice, "", token).refused("AuthenticationFailed"));
    EXPECT_NE(world->daemon_log().find("token expired"), std::string::npos);
    EXPECT_TRUE(
        world->call(world->alice, {"create", "", "past", "1000"}).refused("InvalidArgument"));
}

TEST_F(DaemonTest, DeletedUserAndChangedUidDoNotAuthenticate) {
    world->start_daemon();
    const auto [id, token] = create(world->root, "alice", "t");
    const auto [bob_id, bob_token] = create(world->root, "bob", "t");
    world->change_uid("alice", 61999);
    EXPECT_TRUE(auth(world->root, "alice", token).refused("AuthenticationFailed"));
    EXPECT_NE(world->daemon_log().find("uid changed"), std::string::npos) << world->daemon_log();
    world->remove_user("bob");
    EXPECT_TRUE(auth(world->root, "bob", bob_token).refused("NoSuchUser"));
    // An admin can still see and clean up a deleted user's tokens.
    EXPECT_EQ(world->call(world->root, {"list", "bob"}).fields.at(0), "1");
    EXPECT_TRUE(world->call(world->root, {"revoke-all", "bob"}).ok());
    EXPECT_TRUE(world->call(world->root, {"create", "bob", "new", "0"}).refused("NoSuchUser"));
}

// The account was deleted and made again with another uid: the new owner
// of the name never sees the old account's tokens; an admin sees them as
// orphaned until they are deleted: when the new account makes a token, or
// by the clean-up (here the one at start-up; the hourly one is the same).
TEST_F(DaemonTest, ARecreatedAccountDoesNotInheritTheOldAccountsTokens) {
    world->start_daemon();
    const auto [old_id, old_token] = create(world->alice, "", "old");
    world->change_uid("alice", 61999);
    const TestUser new_alice{"alice", 61999, {}};
    const CallResult own = world->call(new_alice, {"list-ex", ""});
    ASSERT_TRUE(own.ok()) << own.raw;
    EXPECT_EQ(own.fields.at(0), "0") << own.raw;
    EXPECT_EQ(world->call(new_alice, {"list", ""}).fields.at(0), "0");
    EXPECT_TRUE(auth(new_alice, "", old_token).refused("AuthenticationFailed"));
    const CallResult seen = world->call(world->admin, {"list-ex", "alice"});
    ASSERT_TRUE(seen.ok()) << seen.raw;
    ASSERT_EQ(seen.lines.size(), 1U) << seen.raw;
    EXPECT_EQ(seen.lines[0], old_id + " alice 61001 orphaned");
    // The new account's first token deletes them.
    const auto [new_id, new_token] = create(new_alice, "", "old");
    const CallResult after = world->call(world->admin, {"list-ex", "alice"});
    ASSERT_EQ(after.lines.size(), 1U) << after.raw;
    EXPECT_EQ(after.lines[0], new_id + " alice 61999 live");
    EXPECT_TRUE(auth(new_alice, "", new_token).ok());
    EXPECT_TRUE(auth(new_alice, "", old_token).refused("AuthenticationFailed"));
    EXPECT_NE(world->daemon_log().find("deleted 1 tokens of user \"alice\"'s earlier account"),
              std::string::npos)
        << world->daemon_log();
    // Made again once more: the clean-up deletes the orphan without waiting
    // for a new token.
    world->change_uid("alice", 61998);
    EXPECT_EQ(world->stop_daemon(), 0);
    world->start_daemon();
    const CallResult swept = world->call(world->admin, {"list-ex", "alice"});
    ASSERT_TRUE(swept.ok()) << swept.raw;
    EXPECT_TRUE(swept.lines.empty()) << swept.raw;
    EXPECT_NE(world->daemon_log().find("deleted 1 orphaned tokens"), std::string::npos)
        << world->daemon_log();
}

TEST_F(DaemonTest, FailedAttemptsAreThrottledPerSource) {
    world->set_config("throttle_max_failures = 3\nthrottle_window = 60s\n");
    world->start_daemon();
    const auto [id, token] = create(world->root, "alice", "t");
    std::string wrong = token;
    wrong.replace(16, 8, "00000000"); // valid shape is not needed: any failure counts
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(auth(world->www, "alice", wrong, "sshd", "198.51.100.9")
                        .refused("AuthenticationFailed"));
    }
    EXPECT_TRUE(auth(world->www, "alice", wrong, "sshd", "198.51.100.9").refused("TooManyAttempts"))
        << "the guessing source is throttled";
    EXPECT_TRUE(
        auth(world->www, "alice", wrong, "sshd", "192.0.2.5").refused("AuthenticationFailed"))
        << "another host is another source";
    EXPECT_TRUE(
        auth(world->alice, "alice", wrong, "sshd", "198.51.100.9").refused("AuthenticationFailed"))
        << "another caller is another source";
    EXPECT_TRUE(auth(world->www, "alice", token, "sshd", "198.51.100.9").refused("TooManyAttempts"))
        << "a throttled source is not told whether a token is right: the guesser learns nothing";
    EXPECT_TRUE(auth(world->www, "alice", token, "sshd", "192.0.2.5").ok())
        << "the real user from another host is not locked out";
}

TEST_F(DaemonTest, UnprivilegedCallersCannotDodgeTheThrottleWithInventedHosts) {
    world->set_config("throttle_max_failures = 3\nthrottle_window = 60s\n");
    world->start_daemon();
    const std::string token = create(world->alice, "", "t").second;
    const std::string wrong = "atk_" + std::string(52, '0');
    for (int i = 0; i < 3; ++i) {
        auth(world->alice, "", wrong, "sshd", "198.51.100." + std::to_string(i));
    }
    EXPECT_TRUE(auth(world->alice, "", wrong, "sshd", "203.0.113.99").refused("TooManyAttempts"))
        << "a caller that may only authenticate itself does not choose its rhost";
    EXPECT_TRUE(auth(world->alice, "", token, "sshd", "203.0.113.99").refused("TooManyAttempts"));
    EXPECT_TRUE(auth(world->www, "alice", token, "sshd", "203.0.113.99").ok())
        << "another caller is another source";
}

TEST_F(DaemonTest, OverloadAnswersBusyAndMemoryStaysBounded) {
    if (TestWorld::daemon_under_valgrind()) {
        GTEST_SKIP() << "a 64 MiB Argon2id hash takes minutes under valgrind";
    }
    // One worker, room for two jobs, and a hash that takes a while. What is
    // asserted does not depend on how long it takes (seconds under ASan on a
    // busy machine): every call is answered, by the daemon, either with the
    // result or with Busy; so the callers wait as long as it takes, within
    // ctest's limit for the test (a call never answered is reported here,
    // with the daemon's log, not killed unexplained by ctest).
    world->set_config(
        "workers = 1\nqueue_size = 2\nargon2_time_cost = 3\nargon2_memory_kib = 65536\n");
    world->start_daemon();
    const std::string token = create(world->root, "alice", "t").second;
    const long rss_before = world->daemon_peak_rss_kib();
    std::vector<std::future<CallResult>> calls;
    calls.reserve(40);
    // The 40 calls run at once, then one more: both within ctest's limit.
    const auto call_within = [&](std::chrono::seconds limit) {
        const auto client_ms = std::chrono::milliseconds(limit - std::chrono::seconds(10));
        return world->call(world->root,
                           {"--timeout-ms=" + std::to_string(client_ms.count()), "auth", "alice",
                            token, "sshd", ""},
                           limit);
    };
    const auto call = [&] { return call_within(kCtestTimeLimit * 5 / 9); };
    for (int i = 0; i < 40; ++i) {
        calls.push_back(std::async(std::launch::async, call));
    }
    int ok = 0;
    int busy = 0;
    for (auto& pending : calls) {
        const CallResult r = pending.get();
        ok += r.ok() ? 1 : 0;
        busy += r.refused("Busy") ? 1 : 0;
        EXPECT_TRUE(r.ok() || r.refused("Busy")) << r.raw << world->daemon_log();
    }
    EXPECT_GT(ok, 0);
    EXPECT_GT(busy, 0) << "a full queue must answer Busy";
    if (TestWorld::daemon_memory_is_measurable()) {
        // One worker hashing in 64 MiB plus slack; 40 callers must not add 40 x 64 MiB.
        EXPECT_LT(world->daemon_peak_rss_kib(), rss_before + 100L * 1024)
            << "peak RSS grew from " << rss_before << " KiB";
    }
    EXPECT_TRUE(call_within(kCtestTimeLimit / 4).ok()) << "still serving after the flood";
}

TEST_F(DaemonTest, RestartKeepsTokensAndSigtermFlushesStatistics) {
    world->set_config("usage_flush_interval = 1h\n");
    world->start_daemon();
    const auto [id, token] = create(world->alice, "", "t");
    EXPECT_TRUE(auth(world->www, "alice", token, "vsftpd", "203.0.113.7").ok());
    EXPECT_EQ(world->stop_daemon(), 0) << world->daemon_log();
    world->start_daemon();
    const CallResult listed = world->call(world->alice, {"list", ""});
    ASSERT_EQ(listed.lines.size(), 1U) << listed.raw;
    std::istringstream line(listed.lines[0]);
    std::string skip;
    std::string last_used;
    std::string uses;
    std::string service;
    std::string rhost;
    line >> skip >> skip >> skip >> skip >> last_used >> uses >> service >> rhost;
    EXPECT_EQ(uses, "1");
    EXPECT_NE(last_used, "0");
    EXPECT_EQ(service, "vsftpd");
    EXPECT_EQ(rhost, "203.0.113.7");
    EXPECT_TRUE(auth(world->alice, "", token).ok()) << "the token survived the restart";
}

TEST_F(DaemonTest, SecondInstanceIsRefused) {
    world->start_daemon();
    const ProcessResult same_store = world->run_daemon_once({});
    EXPECT_EQ(same_store.exit_code, 1);
    EXPECT_NE(same_store.err.find("in use by another apitoken process"), std::string::npos)
        << same_store.err;

    const auto other_state = world->dir() / "other-state";
    std::filesystem::create_directory(other_state);
    ASSERT_EQ(::chown(other_state.c_str(), world->daemon_user.uid, world->daemon_user.uid), 0);
    const ProcessResult same_bus = world->run_daemon_once({"--state-dir=" + other_state.string()});
    EXPECT_EQ(same_bus.exit_code, 1);
    EXPECT_NE(same_bus.err.find("already owns io.apitoken1"), std::string::npos) << same_bus.err;
    EXPECT_TRUE(world->call(world->alice, {"list", ""}).ok()) << "the first instance still serves";
}

TEST_F(DaemonTest, BadConfigIsRefusedNamingFileLineAndKey) {
    world->set_config("workers = 2\nno_such_key = 1\n");
    const ProcessResult r = world->run_daemon_once({});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find("apitokend.conf:2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no_such_key"), std::string::npos) << r.err;
    EXPECT_TRUE(world->call(world->root, {"status"}).status == "unavailable") << "nothing started";
}

TEST_F(DaemonTest, OnlyTheDaemonUserMayOwnTheName) {
    const auto bob_state = world->dir() / "bob-state";
    std::filesystem::create_directory(bob_state);
    ASSERT_EQ(::chown(bob_state.c_str(), world->bob.uid, world->bob.uid), 0);
    const ProcessResult r =
        run_process({APITOKEN_SETPRIV, "--reuid=61002", "--regid=61002", "--clear-groups", "--",
                     APITOKEN_DAEMON, "--config=/dev/null", "--state-dir=" + bob_state.string()},
                    [&] {
                        Environment env = world->nss_environment();
                        env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + world->bus_address());
                        return env;
                    }());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("D-Bus policy does not let uid 61002 own"), std::string::npos) << r.err;
}

TEST_F(DaemonTest, NoSecretAppearsInLogsOrState) {
    world->set_config("throttle_max_failures = 2\n");
    world->start_daemon(/*debug=*/true);
    const auto [id, token] = create(world->alice, "", "t");
    const std::string secret = token.substr(16, 32);
    EXPECT_TRUE(auth(world->alice, "", token).ok());
    std::string wrong = token.substr(0, 16) + std::string(32, '0') + token.substr(48);
    auth(world->alice, "", wrong);
    auth(world->alice, "", wrong);
    EXPECT_TRUE(auth(world->alice, "", wrong).refused("TooManyAttempts"));
    EXPECT_EQ(world->stop_daemon(), 0);

    const std::string log = world->daemon_log();
    EXPECT_NE(log.find(id), std::string::npos) << "the id is logged";
    EXPECT_EQ(log.find(secret), std::string::npos) << "the secret must never be logged";
    for (const auto& entry : std::filesystem::directory_iterator(world->state_dir())) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        EXPECT_EQ(bytes.find(secret), std::string::npos) << entry.path();
        EXPECT_EQ(bytes.find(token.substr(0, 30)), std::string::npos) << entry.path();
    }
}

TEST_F(DaemonTest, StateDirectoryIsPrivate) {
    world->start_daemon();
    create(world->alice, "", "t");
    const auto perms = std::filesystem::status(world->state_dir()).permissions();
    EXPECT_EQ(perms, std::filesystem::perms::owner_all);
    const CallResult r = world->call(world->bob, {"list", ""});
    EXPECT_TRUE(r.ok());
}

TEST_F(DaemonTest, TokenIsRehashedWhenParametersChange) {
    world->start_daemon();
    const auto [id, token] = create(world->alice, "", "t");
    EXPECT_EQ(world->stop_daemon(), 0);
    world->set_config("argon2_time_cost = 2\nargon2_memory_kib = 128\n");
    world->start_daemon();
    EXPECT_TRUE(auth(world->alice, "", token).ok());
    EXPECT_EQ(world->stop_daemon(), 0);
    std::ifstream in(world->state_dir() / "data.mdb", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(bytes.find("$argon2id$v=19$m=128,t=2,p=1$"), std::string::npos)
        << "re-hashed with the new cost";
    world->start_daemon();
    EXPECT_TRUE(auth(world->alice, "", token).ok()) << "the new hash verifies the same token";
}

TEST_F(DaemonTest, UsageIsWrittenByTheTimerWithoutAStop) {
    world->set_config("usage_flush_interval = 1s\n");
    world->start_daemon();
    const auto [id, token] = create(world->alice, "", "t");
    EXPECT_TRUE(auth(world->alice, "", token).ok());
    EXPECT_TRUE(auth(world->alice, "", token).ok());
    std::string uses;
    for (int i = 0; i < 50 && uses != "2"; ++i) {
        std::this_thread::sleep_for(100ms);
        std::istringstream line(world->call(world->alice, {"list", ""}).lines.at(0));
        std::string skip;
        line >> skip >> skip >> skip >> skip >> skip >> uses;
    }
    EXPECT_EQ(uses, "2");
}

TEST_F(DaemonTest, SigintStopsCleanly) {
    world->start_daemon();
    ::kill(world->daemon_pid(), SIGINT);
    EXPECT_EQ(world->stop_daemon(), 0);
    EXPECT_NE(world->daemon_log().find("apitokend stopping"), std::string::npos);
}

TEST_F(DaemonTest, ClientGivesUpAtItsDeadline) {
    // No daemon: the bus answers at once, long before the deadline (far
    // above what a busy machine adds).
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(world->call(world->root, {"--timeout-ms=30000", "status"}).status, "unavailable");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);

    // A name owner that never answers: the client stops at its deadline.
    const auto silent = world->start_silent_owner();
    started = std::chrono::steady_clock::now();
    const CallResult r =
        world->call(world->root, {"--timeout-ms=700", "auth", "alice", "x", "sshd", ""});
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.status, "unavailable") << r.raw;
    EXPECT_GE(took, 650ms);
    EXPECT_LT(took, 10s) << "the deadline, not sd-bus's own (25 s)";
}

TEST_F(DaemonTest, ConcurrentCorrectLoginsSurviveARehash) {
    world->start_daemon();
    const std::string token = create(world->alice, "", "t").second;
    EXPECT_EQ(world->stop_daemon(), 0);
    world->set_config("argon2_memory_kib = 4096\n");
    world->start_daemon();
    std::vector<std::future<CallResult>> calls;
    calls.reserve(8);
    for (int i = 0; i < 8; ++i) {
        calls.push_back(
            std::async(std::launch::async, [&] { return auth(world->alice, "", token); }));
    }
    for (auto& call : calls) {
        const CallResult r = call.get();
        EXPECT_TRUE(r.ok()) << "a re-hash by one login must not fail the others: " << r.raw;
    }
}

TEST_F(DaemonTest, AWholeTokenGivenAsAnIdIsNeverEchoed) {
    world->start_daemon();
    const auto [id, token] = create(world->alice, "", "t");
    const CallResult r = world->call(world->alice, {"revoke", "", token});
    EXPECT_TRUE(r.refused("InvalidArgument")) << r.raw;
    EXPECT_EQ(r.raw.find(token.substr(16, 32)), std::string::npos)
        << "the secret came back: " << r.raw;
    EXPECT_NE(r.raw.find("whole token"), std::string::npos) << r.raw;
}

} // namespace
} // namespace apitoken::testing
