// Faults the daemon must survive: kill -9 at any moment, a full disk, the
// state directory removed or made unreadable under it, the bus going away.
#include "ipc/bus_client.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

class FaultTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        // NOLINTNEXTLINE(concurrency-mt-unsafe): before any thread of ours
        ::setenv("DBUS_SYSTEM_BUS_ADDRESS", world->bus_address().c_str(), 1);
    }
};

struct Acknowledged {
    std::vector<std::string> live;    // tokens whose create was answered
    std::vector<std::string> revoked; // tokens whose revoke was answered
};

// Creates, authenticates and revokes through the daemon until it dies;
// records only what the daemon acknowledged.
Acknowledged work_until_killed(int round) {
    Acknowledged ack;
    ipc::Client client{2s};
    for (int i = 0;; ++i) {
        ipc::CreatedToken made;
        if (!client
                 .create_token("alice", "r" + std::to_string(round) + "-" + std::to_string(i), -1,
                               {}, made)
                 .ok()) {
            return ack;
        }
        ack.live.emplace_back(made.token.view());
        if (!client.authenticate("alice", ack.live.back(), "sshd", "").ok()) {
            return ack;
        }
        if (i % 2 == 1) {
            const std::string victim = ack.live[ack.live.size() - 2];
            const ipc::Outcome revoked = client.revoke_token("alice", victim.substr(4, 12));
            if (!revoked.ok()) {
                // Killed with the revoke in flight: it may or may not have
                // committed, so the victim proves nothing either way.
                ack.live.erase(ack.live.end() - 2);
                return ack;
            }
            ack.revoked.push_back(victim);
            ack.live.erase(ack.live.end() - 2);
        }
    }
}

TEST_F(FaultTest, KillMinus9InALoopLosesNothingAcknowledged) {
    world->set_config("max_tokens_per_user = 100000\nthrottle_max_failures = 1000\n");
    std::vector<std::string> live;
    std::vector<std::string> revoked;
    for (int round = 0; round < 5; ++round) {
        world->start_daemon();
        std::thread killer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(150 + 70 * round));
            world->kill_daemon();
        });
        Acknowledged ack = work_until_killed(round);
        killer.join();
        live.insert(live.end(), ack.live.begin(), ack.live.end());
        revoked.insert(revoked.end(), ack.revoked.begin(), ack.revoked.end());
    }
    ASSERT_GT(live.size(), 5U) << "too little happened before the kills to test anything";
    ASSERT_GT(revoked.size(), 2U);
    world->start_daemon();
    ipc::Client client{5s};
    for (const auto& token : live) {
        EXPECT_TRUE(client.authenticate("alice", token, "sshd", "").ok())
            << "an acknowledged create was lost: " << token.substr(4, 12);
    }
    for (const auto& token : revoked) {
        EXPECT_TRUE(client.authenticate("alice", token, "sshd", "")
                        .refused_with(ipc::Error::AuthenticationFailed))
            << "a revoked token works again: " << token.substr(4, 12);
    }
    // The user index agrees with the records: every acknowledged token is
    // listed once, no revoked one is. (Those cut off in flight may or may
    // not be there.)
    std::vector<ipc::TokenInfo> listed;
    ASSERT_TRUE(client.list_tokens("alice", listed).ok()) << "the store reads back whole";
    std::map<std::string, int> times_listed;
    for (const auto& info : listed) {
        ++times_listed[info.id];
    }
    for (const auto& [id, times] : times_listed) {
        EXPECT_EQ(times, 1) << "listed twice: " << id;
    }
    for (const auto& token : live) {
        EXPECT_TRUE(times_listed.contains(token.substr(4, 12)))
            << "acknowledged but not listed: " << token.substr(4, 12);
    }
    for (const auto& token : revoked) {
        EXPECT_FALSE(times_listed.contains(token.substr(4, 12)))
            << "revoked but still listed: " << token.substr(4, 12);
    }
}

TEST_F(FaultTest, FullDiskGivesAClearErrorAndKeepsWhatIsThere) {
    const auto state = world->state_dir();
    if (::mount("tmpfs", state.c_str(), "tmpfs", 0, "size=256k,mode=0700,uid=61000,gid=61000") !=
        0) {
        GTEST_SKIP() << "cannot mount a tmpfs here";
    }
    struct Unmount {
        std::filesystem::path path;
        explicit Unmount(std::filesystem::path mounted) : path(std::move(mounted)) {}
        Unmount(const Unmount&) = delete;
        Unmount& operator=(const Unmount&) = delete;
        Unmount(Unmount&&) = delete;
        Unmount& operator=(Unmount&&) = delete;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{state};
    world->set_config("max_tokens_per_user = 100000\n");
    world->start_daemon();
    const CallResult first = world->call(world->root, {"create", "alice", "first", "0"});
    ASSERT_TRUE(first.ok()) << first.raw;
    CallResult failed;
    for (int i = 0; i < 5000; ++i) {
        failed = world->call(world->root, {"create", "alice", "filler-" + std::to_string(i), "0"});
        if (!failed.ok()) {
            break;
        }
    }
    EXPECT_TRUE(failed.refused("Failed")) << "the disk never filled: " << failed.raw;
    EXPECT_NE(failed.raw.find("the token store failed"), std::string::npos) << failed.raw;
    const std::string log = world->daemon_log();
    EXPECT_TRUE(log.find("No space left on device") != std::string::npos ||
                log.find("is full") != std::string::npos)
        << "the log names the cause:\n"
        << log;
    EXPECT_TRUE(world->call(world->root, {"auth", "alice", first.fields.at(1), "sshd", ""}).ok())
        << "existing tokens still work";
    EXPECT_EQ(world->stop_daemon(), 0);
    world->start_daemon();
    EXPECT_TRUE(world->call(world->root, {"auth", "alice", first.fields.at(1), "sshd", ""}).ok())
        << "the store is intact after a restart";
}

// Removing /var/lib/apitoken under a running daemon leaves it holding a
// file nobody will open again: it must not acknowledge writes into it, and
// it exits so that systemd starts it on the directory as it is now.
TEST_F(FaultTest, StateDirectoryRemovedWhileRunningRefusesWritesAndExits) {
    world->set_config("usage_flush_interval = 1s\n");
    world->start_daemon();
    const CallResult before = world->call(world->root, {"create", "alice", "before", "0"});
    ASSERT_TRUE(before.ok()) << before.raw;
    std::filesystem::remove_all(world->state_dir());

    const CallResult after = world->call(world->root, {"create", "alice", "after", "0"});
    EXPECT_TRUE(after.refused("Failed"))
        << "a write into a removed store was acknowledged: " << after.raw;
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
        std::this_thread::sleep_for(100ms);
        exited = world->daemon_log().find("exiting so that systemd restarts") != std::string::npos;
    }
    EXPECT_TRUE(exited) << world->daemon_log();
    EXPECT_NE(world->daemon_log().find("was removed or replaced"), std::string::npos)
        << world->daemon_log();
    EXPECT_EQ(world->stop_daemon(), 1) << "exit 1, so that Restart=on-failure applies";

    // Started again (systemd's StateDirectory= makes the directory anew, as
    // here), it makes a new, empty store where the old one was.
    std::filesystem::create_directory(world->state_dir());
    ASSERT_EQ(::chown(world->state_dir().c_str(), world->daemon_user.uid, world->daemon_user.uid),
              0);
    world->start_daemon();
    const CallResult listed = world->call(world->root, {"list", "alice"});
    ASSERT_TRUE(listed.ok()) << listed.raw;
    EXPECT_EQ(listed.fields.at(0), "0");
    EXPECT_TRUE(world->call(world->root, {"create", "alice", "again", "0"}).ok());
}

// The state directory made unreadable (mode 000) and its files given to root
// under a running daemon: what it has open stays usable and nothing is lost;
// a restart refuses with the path and the reason; once the files are the
// daemon's again it starts (and sets the directory back to 0700 itself).
TEST_F(FaultTest, StateDirectoryMadeUnreadableWhileRunningLosesNothing) {
    world->set_config("usage_flush_interval = 1s\n");
    world->start_daemon();
    const CallResult first = world->call(world->root, {"create", "alice", "first", "0"});
    ASSERT_TRUE(first.ok()) << first.raw;
    const auto state = world->state_dir();
    const auto give_files_to = [&](uid_t uid) {
        for (const auto* name : {"data.mdb", "lock.mdb"}) {
            ASSERT_EQ(::chown((state / name).c_str(), uid, uid), 0) << name;
        }
    };
    give_files_to(0);
    std::filesystem::permissions(state, std::filesystem::perms::none);

    EXPECT_TRUE(world->call(world->root, {"auth", "alice", first.fields.at(1), "sshd", ""}).ok());
    const CallResult second = world->call(world->root, {"create", "alice", "second", "0"});
    ASSERT_TRUE(second.ok()) << second.raw;
    std::this_thread::sleep_for(1500ms); // a flush of the usage statistics
    EXPECT_EQ(world->stop_daemon(), 0) << world->daemon_log();

    const ProcessResult refused = world->run_daemon_once({});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find(state.string()), std::string::npos) << refused.err;

    give_files_to(world->daemon_user.uid);
    world->start_daemon();
    EXPECT_EQ(std::filesystem::status(state).permissions(), std::filesystem::perms::owner_all);
    EXPECT_TRUE(world->call(world->root, {"auth", "alice", first.fields.at(1), "sshd", ""}).ok());
    EXPECT_TRUE(world->call(world->root, {"auth", "alice", second.fields.at(1), "sshd", ""}).ok());
    const CallResult listed = world->call(world->root, {"list", "alice"});
    EXPECT_EQ(listed.lines.size(), 2U) << listed.raw;
}

TEST_F(FaultTest, LosingTheBusEndsTheDaemonWithAClearMessage) {
    world->set_config("usage_flush_interval = 1h\n");
    world->start_daemon();
    const CallResult created = world->call(world->root, {"create", "alice", "t", "0"});
    ASSERT_TRUE(created.ok());
    ASSERT_TRUE(world->call(world->root, {"auth", "alice", created.fields.at(1), "sshd", ""}).ok());
    // Exit code 1, so that systemd (Restart=on-failure) starts it again.
    EXPECT_EQ(world->kill_bus_and_wait_for_daemon(), 1);
    EXPECT_NE(world->daemon_log().find("lost the connection to the system bus"), std::string::npos)
        << world->daemon_log();
}

} // namespace
} // namespace apitoken::testing
