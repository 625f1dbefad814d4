// A hostile local user on the bus: another user's tokens, huge strings,
// thousands of calls in flight from one connection. The daemon answers each
// with the right error, stays responsive for others, and its memory stays
// bounded.
#include "ipc/bus_api.hpp"
#include "ipc/bus_client.hpp"
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

// Runs `body` in a child process that has become `user` (uid, gid, no
// supplementary groups) and talks to the world's bus; returns its exit code.
int as_user_in_child(const TestWorld& world, const TestUser& user,
                     const std::function<int()>& body) {
    const pid_t child = ::fork();
    if (child == 0) {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): the forked child has one thread
        ::setenv("DBUS_SYSTEM_BUS_ADDRESS", world.bus_address().c_str(), 1);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(user.uid, user.uid, user.uid) != 0 ||
            ::setresuid(user.uid, user.uid, user.uid) != 0) {
            ::_exit(100);
        }
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

class HostileTest : public WorldTest {};

TEST_F(HostileTest, AnotherUsersTokensAreOutOfReachThroughEveryMethod) {
    world->start_daemon();
    const CallResult created = world->call(world->root, {"create", "alice", "t", "0"});
    ASSERT_TRUE(created.ok());
    const std::string id = created.fields.at(0);
    const std::string token = created.fields.at(1);
    const int code = as_user_in_child(*world, world->bob, [&] {
        ipc::Client client{5s};
        std::vector<ipc::TokenInfo> tokens;
        ipc::CreatedToken made;
        std::uint64_t count = 0;
        const std::vector<ipc::Outcome> outcomes{
            client.authenticate("alice", token, "sshd", ""),
            client.create_token("alice", "x", 0, {}, made),
            client.list_tokens("alice", tokens),
            client.revoke_token("alice", id),
            client.revoke_all_tokens("alice", count),
            client.rename_token("alice", id, "mine now"),
        };
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            if (!outcomes[i].refused_with(ipc::Error::AccessDenied)) {
                return static_cast<int>(10 + i);
            }
        }
        return 0;
    });
    EXPECT_EQ(code, 0) << "call #" << code - 10 << " was not refused with AccessDenied";
    EXPECT_TRUE(world->call(world->root, {"auth", "alice", token, "sshd", ""}).ok())
        << "nothing changed";
}

TEST_F(HostileTest, HugeStringsGetClearErrorsAndChangeNothing) {
    world->start_daemon();
    const long rss_before = world->daemon_peak_rss_kib();
    const std::string huge(std::size_t{1} << 20U, 'x');
    const int code = as_user_in_child(*world, world->alice, [&] {
        ipc::Client client{10s};
        ipc::CreatedToken made;
        std::vector<ipc::TokenInfo> tokens;
        if (!client.authenticate("", huge, "sshd", "")
                 .refused_with(ipc::Error::AuthenticationFailed)) {
            return 11;
        }
        if (!client.authenticate(huge, "atk_x", "sshd", "")
                 .refused_with(ipc::Error::InvalidArgument)) {
            return 12;
        }
        if (!client.authenticate("", "atk_x", huge, "").refused_with(ipc::Error::InvalidArgument)) {
            return 13;
        }
        if (!client.authenticate("", "atk_x", "sshd", huge)
                 .refused_with(ipc::Error::InvalidArgument)) {
            return 14;
        }
        if (!client.create_token("", huge, 0, {}, made).refused_with(ipc::Error::InvalidArgument)) {
            return 15;
        }
        if (!client.create_token("", "ok", 0, {huge}, made)
                 .refused_with(ipc::Error::InvalidArgument)) {
            return 16;
        }
        if (!client.create_token("", "ok", 0, std::vector<std::string>(10'000, "sshd"), made)
                 .refused_with(ipc::Error::InvalidArgument)) {
            return 17;
        }
        if (!client.rename_token("", huge, "x").refused_with(ipc::Error::InvalidArgument)) {
            return 18;
        }
        if (!client.list_tokens(huge, tokens).refused_with(ipc::Error::InvalidArgument)) {
            return 19;
        }
        // Not valid UTF-8: refused before it leaves this process (sd-bus
        // validates strings), so it cannot reach the daemon at all.
        if (client.authenticate("", "atk_\xff\xfe", "sshd", "").ok()) {
            return 20;
        }
        return client.list_tokens("", tokens).ok() && tokens.empty() ? 0 : 21;
    });
    EXPECT_EQ(code, 0) << "check #" << code - 10 << " failed";
    if (TestWorld::daemon_memory_is_measurable()) {
        EXPECT_LT(world->daemon_peak_rss_kib(), rss_before + 32L * 1024)
            << "huge strings are not hoarded";
    }
}

// One connection, thousands of calls sent before any reply is read: half
// malformed (refused at once), half well-formed with unknown ids (each costs
// a hash, so most get Busy from the full queue).
int flood(std::size_t calls, const std::string& well_formed) {
    sd_bus* bus = nullptr;
    if (sd_bus_open_system(&bus) < 0) {
        return 30;
    }
    std::size_t replies = 0;
    const auto count_reply = [](sd_bus_message* /*m*/, void* userdata, sd_bus_error* /*e*/) {
        ++*static_cast<std::size_t*>(userdata);
        return 0;
    };
    for (std::size_t i = 0; i < calls; ++i) {
        if (sd_bus_call_method_async(bus, nullptr, ipc::kBusName, ipc::kObjectPath, ipc::kInterface,
                                     ipc::method::kAuthenticate, count_reply, &replies, "ssss", "",
                                     i % 2 == 0 ? "atk_junk" : well_formed.c_str(), "sshd",
                                     "") < 0) {
            return 31;
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (replies < calls && std::chrono::steady_clock::now() < deadline) {
        if (sd_bus_process(bus, nullptr) == 0) {
            sd_bus_wait(bus, 100'000);
        }
    }
    sd_bus_flush_close_unref(bus);
    return replies == calls ? 0 : 32;
}

TEST_F(HostileTest, TenThousandCallsInFlightFromOneClient) {
    world->start_daemon();
    const long rss_before = world->daemon_peak_rss_kib();
    const pid_t flooder = ::fork();
    if (flooder == 0) {
        const std::string unknown(store::generate_token().text.view());
        ::_exit(as_user_in_child(*world, world->alice, [&] { return flood(10'000, unknown); }));
    }
    // Others are still served while the flood is on.
    std::this_thread::sleep_for(200ms);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(world->call(world->bob, {"list", ""}).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the daemon stalled for others";
    int status = 0;
    ::waitpid(flooder, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "every call got an answer (status " << status << ")";
    if (TestWorld::daemon_memory_is_measurable()) {
        EXPECT_LT(world->daemon_peak_rss_kib(), rss_before + 64L * 1024) << "memory stays bounded";
    }
    EXPECT_TRUE(world->call(world->alice, {"list", ""}).ok());
}

TEST_F(HostileTest, ManyConnectionsAtOnce) {
    world->start_daemon();
    const int code = as_user_in_child(*world, world->alice, [] {
        std::vector<std::unique_ptr<ipc::Client>> clients;
        clients.reserve(200);
        for (int i = 0; i < 200; ++i) {
            clients.push_back(std::make_unique<ipc::Client>(5s));
        }
        std::vector<ipc::TokenInfo> tokens;
        for (auto& client : clients) {
            if (!client->list_tokens("", tokens).ok()) {
                return 40;
            }
        }
        return 0;
    });
    EXPECT_EQ(code, 0);
    EXPECT_TRUE(world->call(world->bob, {"list", ""}).ok());
}

} // namespace
} // namespace apitoken::testing
