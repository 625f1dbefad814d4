// The daemon's log, as it is written where there is no journal: a hostile
// user name (any remote login through any PAM service can choose one) or
// rhost cannot forge a field or reach the reader's terminal.
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace apitoken::testing {
namespace {

class LogTest : public WorldTest {};

// How often `needle` occurs in `text`.
std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

TEST_F(LogTest, ASpaceInAUserNameCannotForgeAField) {
    world->start_daemon();
    const std::string forged = "x user=root caller_uid=0 result=success";
    const std::string token(store::generate_token().text.view());
    // Root (a PAM service) asks for a user that does not exist, with an
    // rhost that tries to close its quotes (it has no space, so it is valid).
    const CallResult r =
        world->call(world->root, {"auth", forged, token, "sshd", R"(h"result="success)"});
    ASSERT_TRUE(r.refused("NoSuchUser")) << r.raw;
    ASSERT_TRUE(world->call(world->root, {"auth", forged, "atk_junk", "sshd", ""})
                    .refused("AuthenticationFailed"));
    EXPECT_EQ(world->stop_daemon(), 0);

    const std::string log = world->daemon_log();
    const std::string quoted = R"(user="x user=root caller_uid=0 result=success")";
    EXPECT_EQ(count(log, quoted), 2U) << log;
    EXPECT_NE(log.find(R"(rhost="h\"result=\"success")"), std::string::npos) << log;
    EXPECT_EQ(count(log, "result=success"), count(log, quoted))
        << "result=success appears only inside the quoted user name:\n"
        << log;
    EXPECT_EQ(log.find(R"(result="success")"), std::string::npos) << "nothing succeeded:\n" << log;
    EXPECT_EQ(count(log, R"(result="failure" reason="user does not exist")"), 1U) << log;
    EXPECT_EQ(count(log, R"(result="failure" reason="malformed token")"), 1U) << log;
}

TEST_F(LogTest, TerminalControlsInAUserNameNeverReachTheLog) {
    // Debug on: the user name also goes into free-text lines.
    world->start_daemon(/*debug=*/true);
    // U+009B is a terminal's CSI (ESC [) in one character; U+202E reverses
    // what follows on screen.
    const std::string csi = "\xc2\x9b";
    const std::string rlo = {'\xe2', '\x80', '\xae'};
    const std::string user = "x" + csi + "2J" + rlo + "toor";
    const std::string token(store::generate_token().text.view());
    const CallResult r = world->call(world->root, {"auth", user, token, "sshd", ""});
    EXPECT_EQ(world->stop_daemon(), 0);

    const std::string log = world->daemon_log();
    EXPECT_EQ(log.find(csi), std::string::npos) << "a raw U+009B in the log";
    EXPECT_EQ(log.find(rlo), std::string::npos) << "a raw U+202E in the log";
    EXPECT_EQ(log.find('\x1b'), std::string::npos);
    if (r.refused("InvalidArgument")) {
        // The name rules refuse it before anything is logged about it.
        GTEST_SKIP() << "the daemon refuses this user name: " << r.raw;
    }
    ASSERT_TRUE(r.refused("NoSuchUser")) << r.raw;
    EXPECT_NE(log.find(R"(user="x\u{009B}2J\u{202E}toor")"), std::string::npos) << log;
    EXPECT_GE(count(log, R"(x\u{009B}2J\u{202E}toor)"), 2U) << "the debug lines escape it too:\n"
                                                            << log;
}

// The PAM service is the caller's word too (root, apitoken-auth): one that
// is no PAM service name (letters, digits and . _ + @ -) is refused before
// anything is logged about it, so it never forges a field or reaches the
// terminal.
TEST_F(LogTest, AServiceNameCannotForgeAFieldOrReachTheTerminal) {
    world->start_daemon(/*debug=*/true);
    const std::string token(store::generate_token().text.view());
    const std::vector<std::string> services{R"(x"result="success)", "svc\x1b[2J", "a\nb",
                                            "svc\xc2\x9b"
                                            "2J"};
    for (const std::string& service : services) {
        const CallResult r = world->call(world->root, {"auth", "alice", token, service, ""});
        EXPECT_TRUE(r.refused("InvalidArgument")) << r.raw;
    }
    EXPECT_EQ(world->stop_daemon(), 0);
    const std::string log = world->daemon_log();
    EXPECT_EQ(log.find(R"(result="success")"), std::string::npos) << log;
    EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
    EXPECT_EQ(log.find("\xc2\x9b"), std::string::npos) << log;
    EXPECT_EQ(log.find("a\nb"), std::string::npos) << log;
}

} // namespace
} // namespace apitoken::testing
