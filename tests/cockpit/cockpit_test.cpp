// The Cockpit page in a real browser: cockpit-ws and its bridge against the
// test world's bus and apitokend, Debian's chromium driven headless by
// cockpit_driver.py (selenium + chromedriver), PAM logins with pamtester.
// The driver asserts what the page shows; these tests assert what the
// daemon holds before and after.

#include "tests/cockpit/cockpit_site.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (const char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::uintmax_t file_size_or_zero(const std::filesystem::path& path) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    return error ? 0 : size;
}

// The driver's "ID <id>" lines.
std::vector<std::string> ids_in(const std::string& output) {
    std::vector<std::string> ids;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("ID ")) {
            ids.push_back(line.substr(3));
        }
    }
    return ids;
}

class CockpitTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        const std::string missing = CockpitSite::missing_parts();
        if (!missing.empty()) {
            GTEST_SKIP() << "the Cockpit page tests need cockpit-ws, cockpit-bridge, chromium, "
                            "chromium-driver and python3-selenium (scripts/run-tests.sh "
                            "installs them); missing here: "
                         << missing;
        }
        // A service like any other: what the page's tokens are used with.
        world->write_pam_service("webapp", "auth required " APITOKEN_PAM_MODULE "\n");
        write_pam_login();
    }

    void start(bool daemon = true, const std::string& config = "") {
        world->set_config("usage_flush_interval = 1s\n" + config);
        if (daemon) {
            world->start_daemon();
        }
        site = std::make_unique<CockpitSite>(
            *world, std::vector<TestUser>{world->alice, world->bob, world->admin},
            APITOKEN_COCKPIT_PAGE_SOURCE);
    }

    // `pam-login USER` reads a token on stdin and logs USER in through the
    // "webapp" service from 192.0.2.7 (pamtester as root, pam_wrapper; run
    // again when pam_wrapper's set-up failed, like TestWorld::pamtester).
    void write_pam_login() const {
        std::string script = "#!/bin/sh\nexec env";
        for (const std::string& entry : world->pam_environment()) {
            script += " " + quoted(entry);
        }
        script += " " + quoted(APITOKEN_TEST_PAM_RUN) + " " + quoted(APITOKEN_PAMTESTER) +
                  " -v -I rhost=192.0.2.7 webapp \"$1\" authenticate\n";
        const auto path = world->dir() / "pam-login";
        std::ofstream(path) << script;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    }

    ProcessResult drive(const std::string& scenario, const TestUser& user,
                        const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> argv{APITOKEN_PYTHON,
                                      APITOKEN_COCKPIT_DRIVER,
                                      scenario,
                                      "--url=" + site->url(),
                                      "--user=" + user.name,
                                      "--password-file=" + site->password_file().string(),
                                      "--pam-login=" + (world->dir() / "pam-login").string(),
                                      std::string("--screenshots=") + APITOKEN_COCKPIT_SCREENSHOTS,
                                      std::string("--chromium=") + APITOKEN_CHROMIUM,
                                      std::string("--chromedriver=") + APITOKEN_CHROMEDRIVER,
                                      "--work=" + (world->dir() / "browser").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv, {}, 360s);
    }

    std::string explain(const ProcessResult& r) const {
        return "driver exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err +
               "\n--- cockpit-ws ---\n" + site->log_text() + "\n--- apitokend ---\n" +
               world->daemon_log();
    }

    // Root's ListTokensEx of `user`: one line per token.
    [[nodiscard]] std::string tokens_of(const std::string& user) const {
        const CallResult r = world->call(world->root, {"ex", "ListTokensEx", user}, 60s);
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.raw;
    }

    std::pair<std::string, std::string> create(const TestUser& owner, const std::string& name) {
        const CallResult r = world->call(world->root, {"create", owner.name, name, "0"}, 60s);
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.fields.size() >= 2 ? std::pair{r.fields[0], r.fields[1]}
                                    : std::pair<std::string, std::string>{};
    }

    std::unique_ptr<CockpitSite> site;
};

TEST_F(CockpitTest, ATokenMadeInThePageWorksUntilItIsRevokedInThePage) {
    start();
    const auto wtmp_before = file_size_or_zero("/var/log/wtmp");
    const auto lastlog_before = file_size_or_zero("/var/log/lastlog");
    const ProcessResult r = drive("lifecycle", world->alice);
    ASSERT_EQ(r.exit_code, 0) << explain(r);
    // A plain user's page asks nothing the daemon refuses (no noise in the
    // audit log), and the Cockpit logins stayed out of the host's records.
    EXPECT_EQ(world->daemon_log().find("access denied"), std::string::npos) << world->daemon_log();
    EXPECT_EQ(file_size_or_zero("/var/log/wtmp"), wtmp_before);
    EXPECT_EQ(file_size_or_zero("/var/log/lastlog"), lastlog_before);
    const auto ids = ids_in(r.out);
    ASSERT_EQ(ids.size(), 2U) << r.out; // as created, and after its rotation
    // The daemon agrees with the page: neither value is live any more.
    const std::string tokens = tokens_of("alice");
    for (const std::string& id : ids) {
        EXPECT_EQ(tokens.find("id=" + id), std::string::npos) << tokens;
        EXPECT_NE(world->daemon_log().find(id), std::string::npos) << id << " is not in the log";
    }
}

TEST_F(CockpitTest, APlainUserSeesAndTouchesOnlyTheirOwnTokens) {
    start();
    const auto alices = create(world->alice, "alices-deploy-key");
    const auto bobs = create(world->bob, "bobs-mail");
    const ProcessResult r = drive("isolation", world->bob,
                                  {"--other-user=alice", "--other-id=" + alices.first,
                                   "--other-name=alices-deploy-key", "--own-name=bobs-mail"});
    ASSERT_EQ(r.exit_code, 0) << explain(r);
    // Nothing the page or the forged calls did touched alice's token.
    EXPECT_NE(tokens_of("alice").find(alices.first), std::string::npos);
    EXPECT_TRUE(
        login_succeeded(world->pamtester(world->root, "webapp", "alice", alices.second + "\n")));
}

TEST_F(CockpitTest, AnAdminChoosesWhoseTokensToSeeAndManages) {
    start();
    const auto alices = create(world->alice, "alices-deploy-key");
    const auto bobs = create(world->bob, "bobs-mail");
    const ProcessResult r =
        drive("admin", world->admin,
              {"--other-user=alice", "--other-id=" + alices.first, "--other-name=alices-deploy-key",
               "--third-user=bob", "--third-name=bobs-mail"});
    ASSERT_EQ(r.exit_code, 0) << explain(r);
    EXPECT_EQ(tokens_of("alice").find(alices.first), std::string::npos) << "revoked by the admin";
    // The token the admin made for bob in the page, used once by the driver.
    EXPECT_NE(tokens_of("bob").find("use_count=1 "), std::string::npos) << tokens_of("bob");
    EXPECT_NE(tokens_of("bob").find("created_by=" + std::to_string(world->admin.uid)),
              std::string::npos)
        << tokens_of("bob");
    EXPECT_NE(tokens_of("bob").find(bobs.first), std::string::npos);
}

// README "Security": every value from the daemon goes into the page as text,
// never as markup: a user's token name and a remote host (which a remote
// login chooses) built to run script in an admin's all-users view.
TEST_F(CockpitTest, MarkupInANameOrARemoteHostIsShownAsTextToAnAdmin) {
    start();
    const std::string name = R"(<img src=x onerror="window.apitokenPwned=1">)";
    const auto bobs = create(world->bob, name);
    ASSERT_FALSE(bobs.first.empty());
    const std::string rhost =
        "<b/onmouseover=window.apitokenPwned=2>rh</b>"; // no blanks in an rhost
    const CallResult used =
        world->call(world->root, {"auth", "bob", bobs.second, "webapp", rhost}, 60s);
    ASSERT_TRUE(used.ok()) << used.raw;
    const ProcessResult r =
        drive("hostile", world->admin,
              {"--other-name=" + name, "--other-id=" + bobs.first, "--third-name=" + rhost});
    ASSERT_EQ(r.exit_code, 0) << explain(r);
}

// Create, rename, rotate and revoke with the keyboard alone, in a window as
// wide as a 1280-pixel one at 200% zoom.
TEST_F(CockpitTest, KeyboardOnlyUseWorksAndThePageReadsAtTwiceTheZoom) {
    start();
    const ProcessResult r = drive("keyboard", world->alice);
    ASSERT_EQ(r.exit_code, 0) << explain(r);
    // Created, then rotated (a new id), then revoked: neither id is left.
    const auto ids = ids_in(r.out);
    ASSERT_EQ(ids.size(), 2U) << r.out;
    EXPECT_NE(ids[0], ids[1]) << "the rotation kept the id";
    const std::string left = tokens_of("alice");
    EXPECT_EQ(left.find(ids[0]), std::string::npos) << "rotated away";
    EXPECT_EQ(left.find(ids[1]), std::string::npos) << "revoked with the keyboard";
}

TEST_F(CockpitTest, TheDaemonsRefusalsAreExplainedInPlainWords) {
    start(true, "max_tokens_per_user = 1\nmax_lifetime = 90d\n");
    const ProcessResult r = drive("refusals", world->alice);
    ASSERT_EQ(r.exit_code, 0) << explain(r);
    const auto ids = ids_in(r.out);
    ASSERT_EQ(ids.size(), 1U) << r.out;
    const std::string tokens = tokens_of("alice");
    EXPECT_NE(tokens.find(ids[0]), std::string::npos) << tokens;
    EXPECT_NE(tokens.find("ok 1"), std::string::npos) << "nothing refused was stored: " << tokens;
}

TEST_F(CockpitTest, AStoppedDaemonIsExplainedInPlainWords) {
    start(false);
    const ProcessResult r = drive("daemon_down", world->alice);
    ASSERT_EQ(r.exit_code, 0) << explain(r);
}

} // namespace
} // namespace apitoken::testing
