// The direct connection (issue 18): apitokend's Unix socket, peer to peer.
// Clients here reach the daemon only through it (their system bus address
// leads nowhere), as real uids through setpriv.

#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

class DirectTest : public WorldTest {};

TEST_F(DirectTest, TheSocketIsMadeForEveryoneInTheDaemonsDirectory) {
    world->start_daemon();
    struct stat socket_stat {};
    ASSERT_EQ(::lstat(world->direct_socket().c_str(), &socket_stat), 0);
    EXPECT_TRUE(S_ISSOCK(socket_stat.st_mode));
    EXPECT_EQ(socket_stat.st_mode & 0777U, 0666U);
    EXPECT_EQ(socket_stat.st_uid, world->daemon_user.uid);
}

TEST_F(DirectTest, AuthorizationIsTheKernelsIdentityWithTheBussRules) {
    world->start_daemon();
    const CallResult created = world->call_direct(world->alice, {"create", "", "ci", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string id = created.fields.at(0);
    const std::string token = created.fields.at(1);
    // Self, root and the admin group see alice's tokens; bob does not.
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok());
    EXPECT_TRUE(world->call_direct(world->root, {"list", "alice"}).ok());
    EXPECT_TRUE(world->call_direct(world->admin, {"list", "alice"}).ok());
    EXPECT_TRUE(world->call_direct(world->bob, {"list", "alice"}).refused("AccessDenied"));
    EXPECT_TRUE(world->call_direct(world->bob, {"revoke", "alice", id}).refused("AccessDenied"));
    // Authentication for another user: root and the auth group only.
    EXPECT_TRUE(world->call_direct(world->www, {"auth", "alice", token, "web", "192.0.2.1"}).ok());
    EXPECT_TRUE(world->call_direct(world->root, {"auth", "alice", token, "sshd", ""}).ok());
    EXPECT_TRUE(world->call_direct(world->bob, {"auth", "alice", token, "sshd", ""})
                    .refused("AccessDenied"));
    EXPECT_TRUE(world->call_direct(world->alice, {"auth", "", token, "sshd", ""}).ok())
        << "a user checks their own token";
}

TEST_F(DirectTest, PamUsesTheSocketAndBusOnlyTheBus) {
    world->start_daemon();
    world->write_pam_service("direct", "auth required " APITOKEN_PAM_MODULE " debug\n");
    world->write_pam_service("viabus", "auth required " APITOKEN_PAM_MODULE " debug bus_only\n");
    const CallResult created = world->call(world->root, {"create", "alice", "t", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string token = created.fields.at(1);
    const Environment socket{"APITOKEN_SOCKET=" + world->direct_socket().string()};
    const ProcessResult direct =
        world->pamtester(world->root, "direct", "alice", token + "\n", socket);
    EXPECT_TRUE(login_succeeded(direct)) << direct.out << direct.err;
    EXPECT_NE(direct.err.find("over its direct socket"), std::string::npos) << direct.err;
    const ProcessResult bus =
        world->pamtester(world->root, "viabus", "alice", token + "\n", socket);
    EXPECT_TRUE(login_succeeded(bus)) << bus.out << bus.err;
    EXPECT_NE(bus.err.find("over the system bus"), std::string::npos) << bus.err;
    // No socket there: the bus, as before.
    const ProcessResult fallback =
        world->pamtester(world->root, "direct", "alice", token + "\n",
                         {"APITOKEN_SOCKET=" + (world->dir() / "no-socket-here").string()});
    EXPECT_TRUE(login_succeeded(fallback)) << fallback.out << fallback.err;
    EXPECT_NE(fallback.err.find("over the system bus"), std::string::npos) << fallback.err;
}

TEST_F(DirectTest, AStaleSocketIsReplacedAndALiveOneRefused) {
    world->start_daemon();
    world->kill_daemon(); // leaves its socket file behind
    ASSERT_TRUE(std::filesystem::exists(world->direct_socket()));
    world->start_daemon();
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

} // namespace
} // namespace apitoken::testing
