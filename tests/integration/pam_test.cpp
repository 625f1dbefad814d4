// pam_apitoken.so through real libpam (pam_wrapper) and pamtester, against
// the real daemon on a private bus.
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

// pam_strerror() texts, as pamtester prints them.
constexpr const char* kAuthErr = "Authentication failure";
constexpr const char* kUserUnknown = "User not known to the underlying authentication module";
constexpr const char* kAuthinfoUnavail =
    "Authentication service cannot retrieve authentication info";
constexpr const char* kMaxTries = "Have exhausted maximum number of retries for service";
constexpr const char* kServiceErr = "Error in service module";

bool succeeded(const ProcessResult& r) {
    return r.exit_code == 0 && r.out.find("successfully authenticated") != std::string::npos;
}

bool failed_with(const ProcessResult& r, const char* pam_error) {
    return r.exit_code != 0 && r.err.find(pam_error) != std::string::npos;
}

std::string describe(const ProcessResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// A well-formed token (valid checksum) with the same id and another secret.
std::string wrong_secret(const std::string& token) {
    const auto id = store::TokenId::from_hex(token.substr(4, 12));
    return std::string(store::generate_token(*id).text.view());
}

class PamTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
        const CallResult created = world->call(world->root, {"create", "alice", "pam", "0"});
        ASSERT_TRUE(created.ok()) << created.raw;
        token_id = created.fields.at(0);
        token = created.fields.at(1);
        service("tokens-only", "auth required " APITOKEN_PAM_MODULE "\n");
    }

    void service(const std::string& name, const std::string& text) const {
        world->write_pam_service(name, text);
    }

    ProcessResult pam(const std::string& service_name, const std::string& user,
                      const std::string& input, const TestUser* as = nullptr,
                      const Environment& env = {}) const {
        if (world == nullptr) { // only when SetUp skipped, and then no test runs
            throw std::logic_error("no test world");
        }
        const TestUser& caller = as != nullptr ? *as : world->root;
        return world->pamtester(caller, service_name, user, input + "\n", env);
    }

    std::string token_id;
    std::string token;
};

TEST_F(PamTest, CorrectTokenSucceedsWrongOrRevokedFails) {
    const ProcessResult ok = pam("tokens-only", "alice", token);
    EXPECT_TRUE(succeeded(ok)) << describe(ok);
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", wrong_secret(token)), kAuthErr));
    EXPECT_TRUE(failed_with(pam("tokens-only", "bob", token), kAuthErr)) << "alice's token for bob";
    ASSERT_TRUE(world->call(world->root, {"revoke", "alice", token_id}).ok());
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", token), kAuthErr)) << "revoked";
}

TEST_F(PamTest, ServiceAndRhostReachTheDaemon) {
    const CallResult scoped = world->call(world->root, {"create", "alice", "ftp", "0", "ftp-only"});
    ASSERT_TRUE(scoped.ok());
    service("ftp-only", "auth required " APITOKEN_PAM_MODULE "\n");
    EXPECT_TRUE(succeeded(pam("ftp-only", "alice", scoped.fields.at(1))));
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", scoped.fields.at(1)), kAuthErr))
        << "a token scoped to another service";
    EXPECT_NE(world->daemon_log().find(R"(service="ftp-only")"), std::string::npos)
        << world->daemon_log();
}

TEST_F(PamTest, APasswordNeverReachesTheDaemon) {
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", "my real password"), kAuthErr));
    EXPECT_EQ(world->daemon_log().find("authentication failed"), std::string::npos)
        << "a non-token is refused inside the module";
}

TEST_F(PamTest, UnknownUserAndIgnoreUnknownUser) {
    EXPECT_TRUE(failed_with(pam("tokens-only", "nosuchuser", token), kUserUnknown));
    // [ignore=ignore] lets a PAM_IGNORE fall through to pam_permit; anything
    // else ends the stack with the module's own code.
    service("ignore-unknown", "auth [success=done ignore=ignore default=die] " APITOKEN_PAM_MODULE
                              " ignore_unknown_user\nauth required " APITOKEN_PAM_PERMIT "\n");
    EXPECT_TRUE(succeeded(pam("ignore-unknown", "nosuchuser", token))) << "PAM_IGNORE";
    EXPECT_TRUE(failed_with(pam("ignore-unknown", "alice", wrong_secret(token)), kAuthErr))
        << "the option changes nothing else";
}

TEST_F(PamTest, DaemonDownIsAuthinfoUnavailWithinTheDeadline) {
    ASSERT_EQ(world->stop_daemon(), 0);
    // A deadline far above what a busy machine adds, so that "at once" and
    // "at the deadline" cannot be confused.
    service("t30", "auth required " APITOKEN_PAM_MODULE " timeout=30\n");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(failed_with(pam("t30", "alice", token), kAuthinfoUnavail));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 15s)
        << "no daemon: the bus says so at once";

    service("ignore-unavail", "auth [success=done ignore=ignore default=die] " APITOKEN_PAM_MODULE
                              " ignore_authinfo_unavail\nauth required " APITOKEN_PAM_PERMIT "\n");
    EXPECT_TRUE(succeeded(pam("ignore-unavail", "alice", token))) << "PAM_IGNORE";
}

TEST_F(PamTest, SilentDaemonIsAuthinfoUnavailAtTheDeadline) {
    ASSERT_EQ(world->stop_daemon(), 0);
    const auto silent = world->start_silent_owner();
    service("t1", "auth required " APITOKEN_PAM_MODULE " timeout=1\n");
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult r = pam("t1", "alice", token);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(failed_with(r, kAuthinfoUnavail)) << describe(r);
    EXPECT_GE(took, 950ms);
    // Generous for a busy machine; sd-bus's own timeout would be 25 s.
    EXPECT_LT(took, 10s) << "the deadline, not later";
}

// A bus daemon that accepts the connection and never says a word (wedged,
// or stopped with SIGSTOP): the socket authentication never finishes.
TEST_F(PamTest, WedgedBusIsAuthinfoUnavailAtTheDeadline) {
    const std::string path = (world->dir() / "wedged-bus").string();
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof(address.sun_path));
    std::copy(path.begin(), path.end(), std::begin(address.sun_path));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the socket API
    ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
    ASSERT_EQ(::listen(listener, 16), 0); // connections wait in the backlog, unanswered
    service("t1", "auth required " APITOKEN_PAM_MODULE " timeout=1\n");
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult r =
        pam("t1", "alice", token, nullptr, {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + path});
    const auto took = std::chrono::steady_clock::now() - started;
    ::close(listener);
    EXPECT_TRUE(failed_with(r, kAuthinfoUnavail)) << describe(r);
    EXPECT_GE(took, 950ms);
    EXPECT_LT(took, 10s) << "the deadline, not sd-bus's own (tens of seconds)";
}

TEST_F(PamTest, ThrottledSourceGetsMaxtries) {
    world->stop_daemon();
    world->set_config("throttle_max_failures = 2\n");
    world->start_daemon();
    const std::string wrong = wrong_secret(token);
    pam("tokens-only", "alice", wrong);
    pam("tokens-only", "alice", wrong);
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", wrong), kMaxTries));
    EXPECT_TRUE(failed_with(pam("tokens-only", "alice", token), kMaxTries))
        << "a throttled source is not told whether a token is right";
    EXPECT_TRUE(succeeded(pam("tokens-only", "alice", token, &world->www)))
        << "the real user through another service (another source) is not locked out";
}

TEST_F(PamTest, UnprivilegedServiceNeedsTheAuthGroup) {
    EXPECT_TRUE(succeeded(pam("tokens-only", "alice", token, &world->www)))
        << "www is in apitoken-auth";
    const ProcessResult other = pam("tokens-only", "alice", token, &world->bob);
    EXPECT_TRUE(failed_with(other, kServiceErr)) << describe(other);
    EXPECT_TRUE(succeeded(pam("tokens-only", "alice", token, &world->alice)))
        << "the user themself";
}

TEST_F(PamTest, FirstPassOptionsUseAnEarlierModulesToken) {
    const std::string set_items = "auth required " APITOKEN_PAM_SET_ITEMS "\n";
    service("use-first", set_items + "auth required " APITOKEN_PAM_MODULE " use_first_pass\n");
    service("try-first", set_items + "auth required " APITOKEN_PAM_MODULE " try_first_pass\n");
    service("use-first-alone", "auth required " APITOKEN_PAM_MODULE " use_first_pass\n");
    const Environment with_token{"PAM_AUTHTOK=" + token};
    EXPECT_TRUE(succeeded(world->pamtester(world->root, "use-first", "alice", "", with_token)))
        << "no prompt: the token comes from PAM_AUTHTOK";
    EXPECT_TRUE(succeeded(world->pamtester(world->root, "try-first", "alice", "", with_token)));
    EXPECT_TRUE(succeeded(pam("try-first", "alice", token))) << "no PAM_AUTHTOK: asks";
    EXPECT_TRUE(failed_with(pam("use-first-alone", "alice", token), kAuthErr)) << "never asks";
}

TEST_F(PamTest, TokenOrPasswordStack) {
    {
        std::ofstream passdb(world->dir() / "passdb");
        passdb << "alice:correct horse:token-or-password\n";
    }
    service("token-or-password", "auth sufficient " APITOKEN_PAM_MODULE "\n"
                                 "auth required " APITOKEN_PAM_MATRIX " passdb=" +
                                     (world->dir() / "passdb").string() + "\n");
    EXPECT_TRUE(succeeded(pam("token-or-password", "alice", token))) << "the token";
    // pam_matrix, unlike pam_unix try_first_pass, ignores PAM_AUTHTOK and asks
    // again, so the password is typed twice here (PAM_AUTHTOK being set for the
    // next module is checked in pamtest_test.cpp).
    const ProcessResult password =
        pam("token-or-password", "alice", "correct horse\ncorrect horse");
    EXPECT_TRUE(succeeded(password)) << "the password: " << describe(password);
    EXPECT_TRUE(
        failed_with(pam("token-or-password", "alice", "wrong horse\nwrong horse"), kAuthErr));
    const std::string wrong = wrong_secret(token);
    EXPECT_TRUE(failed_with(pam("token-or-password", "alice", wrong + "\n" + wrong), kAuthErr));
}

TEST_F(PamTest, DebugLogsStepsButNeverTheTokenAndUnknownOptionsAreLogged) {
    service("debug", "auth required " APITOKEN_PAM_MODULE " debug frobnicate timeout=zero\n");
    const ProcessResult r = pam("debug", "alice", token);
    EXPECT_TRUE(succeeded(r)) << describe(r);
    const std::string log = r.out + r.err;
    EXPECT_NE(log.find("asking apitokend"), std::string::npos) << log;
    EXPECT_NE(log.find("unknown or invalid option \"frobnicate\""), std::string::npos) << log;
    EXPECT_NE(log.find("\"timeout=zero\""), std::string::npos) << log;
    EXPECT_EQ(log.find(token.substr(16, 32)), std::string::npos) << "the secret is never logged";
}

TEST_F(PamTest, ModuleIsCleanUnderValgrind) {
    if (std::string(APITOKEN_VALGRIND).empty() || !std::string(APITOKEN_ASAN_RUNTIME).empty()) {
        GTEST_SKIP() << "needs valgrind and a build without sanitizers";
    }
    const ProcessResult r =
        world->pamtester(world->root, "tokens-only", "alice", token + "\n", {},
                         {APITOKEN_VALGRIND, "--quiet", "--error-exitcode=99", "--leak-check=full",
                          "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"});
    EXPECT_TRUE(succeeded(r)) << describe(r);
    EXPECT_EQ(r.err.find("Invalid read"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("definitely lost"), std::string::npos) << r.err;
}

} // namespace
} // namespace apitoken::testing
