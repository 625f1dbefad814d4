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

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
    const CallResult created = world->call(world->alice, {"create", "", "kept", "0"});
    ASSERT_TRUE(created.ok());
    const std::string id = created.fields.at(0);
    const long rss_before = world->daemon_peak_rss_kib();
    const std::string huge(std::size_t{1} << 20U, 'x');
    const int code = as_user_in_child(*world, world->alice, [&] {
        ipc::Client client{10s};
        ipc::CreatedToken made;
        std::vector<ipc::TokenInfo> tokens;
        std::uint64_t count = 0;
        using Call = std::function<ipc::Outcome()>;
        // Every string argument of every method, 1 MiB long, in turn. A
        // token that long is just a wrong token; anything else is refused
        // as an invalid argument.
        const std::vector<std::pair<Call, ipc::Error>> calls{
            {[&] { return client.authenticate("", huge, "sshd", ""); },
             ipc::Error::AuthenticationFailed},
            {[&] { return client.authenticate(huge, "atk_x", "sshd", ""); },
             ipc::Error::InvalidArgument},
            {[&] { return client.authenticate("", "atk_x", huge, ""); },
             ipc::Error::InvalidArgument},
            {[&] { return client.authenticate("", "atk_x", "sshd", huge); },
             ipc::Error::InvalidArgument},
            {[&] { return client.create_token(huge, "ok", 0, {}, made); },
             ipc::Error::InvalidArgument},
            {[&] { return client.create_token("", huge, 0, {}, made); },
             ipc::Error::InvalidArgument},
            {[&] { return client.create_token("", "ok", 0, {huge}, made); },
             ipc::Error::InvalidArgument},
            {[&] {
                 return client.create_token("", "ok", 0, std::vector<std::string>(10'000, "sshd"),
                                            made);
             },
             ipc::Error::InvalidArgument},
            {[&] { return client.list_tokens(huge, tokens); }, ipc::Error::InvalidArgument},
            {[&] { return client.revoke_token(huge, id); }, ipc::Error::InvalidArgument},
            {[&] { return client.revoke_token("", huge); }, ipc::Error::InvalidArgument},
            {[&] { return client.revoke_all_tokens(huge, count); }, ipc::Error::InvalidArgument},
            {[&] { return client.rename_token(huge, id, "x"); }, ipc::Error::InvalidArgument},
            {[&] { return client.rename_token("", huge, "x"); }, ipc::Error::InvalidArgument},
            {[&] { return client.rename_token("", id, huge); }, ipc::Error::InvalidArgument},
        };
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const ipc::Outcome outcome = calls[i].first();
            if (!outcome.refused_with(calls[i].second)) {
                (void)std::fprintf(stderr, "call #%zu: %s\n", i, outcome.message.c_str());
                return static_cast<int>(10 + i);
            }
            if (outcome.message.size() > 4096) {
                (void)std::fprintf(stderr, "call #%zu: the error echoes the argument\n", i);
                return static_cast<int>(40 + i);
            }
        }
        // Not valid UTF-8: sd-bus refuses to put it in a message (and the
        // bus daemon validates every message it routes), so it never reaches
        // apitokend; the call fails here, not as the daemon's refusal.
        const ipc::Outcome non_utf8 = client.authenticate("", "atk_\xff\xfe", "sshd", "");
        if (non_utf8.kind != ipc::Outcome::Kind::Failed) {
            (void)std::fprintf(stderr, "non-UTF-8: %s\n", non_utf8.message.c_str());
            return 70;
        }
        return 0;
    });
    EXPECT_EQ(code, 0) << "check #" << code << " failed (see the child's stderr above)";
    const CallResult listed = world->call(world->alice, {"list", ""});
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed.lines.size(), 1U) << "nothing was created, revoked or renamed";
    EXPECT_NE(listed.lines.at(0).find(id), std::string::npos);
    EXPECT_NE(listed.lines.at(0).find("kept"), std::string::npos);
    if (TestWorld::daemon_memory_is_measurable()) {
        EXPECT_LT(world->daemon_peak_rss_kib(), rss_before + 32L * 1024)
            << "huge strings are not hoarded";
    }
}

// How a flood of calls was answered, by error name ("" for success).
struct FloodReplies {
    std::size_t total = 0;
    std::map<std::string, std::size_t> by_error;
};

int count_flood_reply(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
    auto& replies = *static_cast<FloodReplies*>(userdata);
    const sd_bus_error* error = sd_bus_message_get_error(m);
    ++replies.by_error[error != nullptr && error->name != nullptr ? error->name : ""];
    ++replies.total;
    return 0;
}

// Only the daemon's own refusals are right: a bus error (LimitsExceeded,
// NoReply) would mean the calls never reached it or it never answered.
bool only_daemon_refusals(const FloodReplies& replies) {
    const std::set<std::string> expected{ipc::error_name(ipc::Error::AuthenticationFailed),
                                         ipc::error_name(ipc::Error::Busy),
                                         ipc::error_name(ipc::Error::TooManyAttempts)};
    return std::all_of(replies.by_error.begin(), replies.by_error.end(),
                       [&](const auto& entry) { return expected.contains(entry.first); });
}

// One connection, thousands of calls sent before any reply is read: half
// malformed (refused without hashing), half well-formed with unknown ids
// (each costs a hash, so most find the hashing queue full and get Busy).
// Writes a byte to `sent_fd` once every call has left this process, then
// waits up to `patience` for all the replies.
int flood(std::size_t calls, const std::string& well_formed, int sent_fd,
          std::chrono::seconds patience) {
    sd_bus* bus = nullptr;
    // The calls themselves wait as long (sd-bus's default is 25 s).
    if (sd_bus_open_system(&bus) < 0 ||
        sd_bus_set_method_call_timeout(
            bus, static_cast<std::uint64_t>(
                     std::chrono::duration_cast<std::chrono::microseconds>(patience).count())) <
            0) {
        return 30;
    }
    FloodReplies replies;
    for (std::size_t i = 0; i < calls; ++i) {
        if (sd_bus_call_method_async(bus, nullptr, ipc::kBusName, ipc::kObjectPath, ipc::kInterface,
                                     ipc::method::kAuthenticate, count_flood_reply, &replies,
                                     "ssss", "", i % 2 == 0 ? "atk_junk" : well_formed.c_str(),
                                     "sshd", "") < 0) {
            return 31;
        }
    }
    if (sd_bus_flush(bus) < 0 || ::write(sent_fd, "s", 1) != 1) {
        return 32;
    }
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (replies.total < calls && std::chrono::steady_clock::now() < deadline) {
        if (sd_bus_process(bus, nullptr) == 0) {
            sd_bus_wait(bus, 100'000);
        }
    }
    sd_bus_flush_close_unref(bus);
    for (const auto& [name, count] : replies.by_error) {
        (void)std::fprintf(stderr, "flood: %zu x %s\n", count,
                           name.empty() ? "success" : name.c_str());
    }
    if (replies.total != calls) {
        return 33;
    }
    if (!only_daemon_refusals(replies)) {
        return 34;
    }
    return replies.by_error.contains(ipc::error_name(ipc::Error::Busy)) ? 0 : 35;
}

TEST_F(HostileTest, TenThousandCallsInFlightFromOneClient) {
    // Slow hashes and a short queue: the flood must overrun the queue.
    world->set_config("argon2_memory_kib = 8192\nworkers = 1\nqueue_size = 16\n");
    world->start_daemon();
    const long rss_before = world->daemon_peak_rss_kib();
    // Under valgrind the daemon runs some twenty times slower.
    const auto patience = TestWorld::daemon_under_valgrind() ? 150s : 60s;
    std::array<int, 2> sent{};
    ASSERT_EQ(::pipe(sent.data()), 0);
    const pid_t flooder = ::fork();
    if (flooder == 0) {
        const std::string unknown(store::generate_token().text.view());
        ::_exit(as_user_in_child(*world, world->alice,
                                 [&] { return flood(10'000, unknown, sent[1], patience); }));
    }
    ::close(sent[1]);
    // Others are still served while the 10,000 calls are in flight: bob's
    // call waits only behind those the daemon has already read.
    char byte = 0;
    ASSERT_EQ(::read(sent[0], &byte, 1), 1) << "the flood was never sent";
    ::close(sent[0]);
    const auto started = std::chrono::steady_clock::now();
    const std::string bob_waits =
        "--timeout-ms=" + std::to_string(TestWorld::daemon_under_valgrind() ? 150'000 : 5'000);
    EXPECT_TRUE(world->call(world->bob, {bob_waits, "list", ""}, patience).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started,
              TestWorld::daemon_under_valgrind() ? patience : 5s)
        << "the daemon stalled for others";
    int status = 0;
    ::waitpid(flooder, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
    const int code = WEXITSTATUS(status);
    EXPECT_NE(code, 33) << "some calls were never answered";
    EXPECT_NE(code, 34) << "some calls were answered by the bus, not the daemon";
    EXPECT_NE(code, 35) << "no call was refused with Busy: the queue was never full";
    EXPECT_EQ(code, 0);
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
