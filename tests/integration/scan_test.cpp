// apitokenctl scan against the real daemon on a private bus, as several
// uids: what a plain user, an owner and root learn about the tokens found
// (LookupTokens), revoking leaked tokens (RevokeLeakedTokens, then PAM
// refuses them), JSON, and a scan without a daemon (--offline, not running).
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace apitoken::testing {
namespace {

using nlohmann::json;

std::string id_of(const std::string& token) {
    return token.substr(4, 12);
}

// A well-formed token (valid checksum) with the same id and another secret.
std::string wrong_secret(const std::string& token) {
    const auto id = store::TokenId::from_hex(id_of(token));
    return std::string(store::generate_token(*id).text.view());
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class ScanTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
        world->write_pam_service("sftp", "auth required " APITOKEN_PAM_MODULE "\n");
    }

    ProcessResult ctl(const TestUser& as, std::vector<std::string> args,
                      const std::string& input = {}) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args, input);
    }

    // The new token (stdout's first line).
    std::string create(const TestUser& as, const std::string& name) const {
        const ProcessResult r = ctl(as, {"create", name});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(std::regex_match(r.out, std::regex("atk_[0-9a-f]{52}\n"))) << r.out;
        return r.out.substr(0, r.out.size() - 1);
    }

    // `scan -` with `text` on standard input.
    ProcessResult scan(const TestUser& as, const std::string& text,
                       std::vector<std::string> options = {}) const {
        options.insert(options.begin(), {"scan", "-"});
        return ctl(as, options, text);
    }

    // Neither the secret nor the checksum of any token ever leaves in output.
    static void expect_no_secret(const ProcessResult& r, const std::vector<std::string>& tokens) {
        for (const auto& token : tokens) {
            const std::string secret = token.substr(16);
            EXPECT_FALSE(contains(r.out, secret)) << r.out;
            EXPECT_FALSE(contains(r.err, secret)) << r.err;
        }
    }

    bool pam_accepts(const std::string& user, const std::string& token) const {
        return world->pamtester(world->root, "sftp", user, token + "\n").exit_code == 0;
    }
};

TEST_F(ScanTest, OwnLiveTokenIsFoundWhereItIsAndExitsOne) {
    const std::string token = create(world->alice, "ci-upload");
    const ProcessResult r =
        scan(world->alice, "url: https://example.org\npassword: " + token + "\n");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out,
              "(standard input):2:11: atk_" + id_of(token) + "\u2026 live alice/ci-upload\n");
    EXPECT_TRUE(contains(r.err, "--revoke")) << "says what to do: " << r.err;
    expect_no_secret(r, {token});

    const ProcessResult none = scan(world->alice, "nothing here atk_ but text\n");
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(none.out, "");
}

TEST_F(ScanTest, ARevokedTokenIsRevokedForItsOwnerAndExitsZero) {
    const std::string token = create(world->alice, "old");
    ASSERT_EQ(ctl(world->alice, {"revoke", id_of(token)}).exit_code, 0);
    const ProcessResult r = scan(world->alice, token);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "(standard input):1:1: atk_" + id_of(token) + "\u2026 revoked alice/old\n");
    expect_no_secret(r, {token});
}

TEST_F(ScanTest, APlainUserLearnsNothingAboutAnotherUsersTokenRootSeesAll) {
    const std::string bobs = create(world->bob, "deploy");
    const std::string nobodys(store::generate_token().text.view());
    const std::string text = bobs + "\n" + nobodys + "\n";

    const ProcessResult alice = scan(world->alice, text);
    EXPECT_EQ(alice.exit_code, 0) << alice.err;
    EXPECT_EQ(alice.out, "(standard input):1:1: atk_" + id_of(bobs) +
                             "\u2026 not yours or unknown\n" + "(standard input):2:1: atk_" +
                             id_of(nobodys) + "\u2026 not yours or unknown\n")
        << "another user's token and one that does not exist look alike";
    EXPECT_FALSE(contains(alice.out + alice.err, "bob"));
    EXPECT_FALSE(contains(alice.out + alice.err, "deploy"));

    for (const TestUser* privileged : {&world->root, &world->admin}) {
        const ProcessResult r = scan(*privileged, text);
        EXPECT_EQ(r.exit_code, 1) << privileged->name << ": " << r.err;
        EXPECT_TRUE(contains(r.out, "atk_" + id_of(bobs) + "\u2026 live bob/deploy\n")) << r.out;
        EXPECT_TRUE(contains(r.out, "atk_" + id_of(nobodys) + "\u2026 not yours or unknown\n"))
            << r.out;
        expect_no_secret(r, {bobs, nobodys});
    }
}

TEST_F(ScanTest, APlainUserRevokesAColleaguesLeakedToken) {
    const std::string bobs = create(world->bob, "deploy");
    ASSERT_TRUE(pam_accepts("bob", bobs));
    const ProcessResult r = scan(world->alice, "leaked: " + bobs + "\n", {"--revoke"});
    EXPECT_EQ(r.exit_code, 1) << "a live token was found: " << r.err;
    EXPECT_EQ(r.out, "(standard input):1:9: atk_" + id_of(bobs) + "\u2026 revoked now\n");
    EXPECT_TRUE(contains(r.err, "revoked 1 leaked token")) << r.err;
    expect_no_secret(r, {bobs});
    EXPECT_FALSE(pam_accepts("bob", bobs)) << "the leaked token no longer works";

    const ProcessResult owner = scan(world->bob, bobs);
    EXPECT_EQ(owner.exit_code, 0) << owner.err;
    EXPECT_EQ(owner.out,
              "(standard input):1:1: atk_" + id_of(bobs) + "\u2026 revoked bob/deploy\n");

    const ProcessResult again = scan(world->alice, bobs, {"--revoke"});
    EXPECT_EQ(again.exit_code, 0) << "nothing live any more: " << again.err;
    EXPECT_TRUE(contains(again.out, "not yours or unknown")) << again.out;
}

TEST_F(ScanTest, AWrongSecretWithARealIdRevokesNothing) {
    const std::string bobs = create(world->bob, "deploy");
    const std::string forged = wrong_secret(bobs);
    const ProcessResult alice = scan(world->alice, forged, {"--revoke"});
    EXPECT_EQ(alice.exit_code, 0) << alice.err;
    EXPECT_TRUE(contains(alice.out, "\u2026 not yours or unknown\n")) << alice.out;
    EXPECT_FALSE(contains(alice.out, "revoked now")) << alice.out;
    // The owner's lookup says live (by id), but the secret is not the token's.
    const ProcessResult bob = scan(world->bob, forged, {"--revoke"});
    EXPECT_EQ(bob.exit_code, 1) << bob.err;
    EXPECT_TRUE(contains(bob.out, "\u2026 live bob/deploy\n")) << bob.out;
    expect_no_secret(bob, {forged, bobs});
    EXPECT_TRUE(pam_accepts("bob", bobs)) << "the real token still works";
}

TEST_F(ScanTest, JsonSaysTheSameWithoutSecrets) {
    const std::string mine = create(world->alice, "mine");
    const std::string bobs = create(world->bob, "theirs");
    const ProcessResult r = scan(world->alice, mine + " " + bobs + "\n", {"--json", "--revoke"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    expect_no_secret(r, {mine, bobs});
    const json found = json::parse(r.out);
    ASSERT_EQ(found.size(), 2U) << r.out;
    EXPECT_EQ(found[0], json({{"path", "(standard input)"},
                              {"line", 1},
                              {"column", 1},
                              {"id", id_of(mine)},
                              {"state", "live"},
                              {"user", "alice"},
                              {"name", "mine"},
                              {"revoked_now", true}}));
    EXPECT_EQ(found[1], json({{"path", "(standard input)"},
                              {"line", 1},
                              {"column", 58},
                              {"id", id_of(bobs)},
                              {"state", "unknown"},
                              {"revoked_now", true}}));
    const ProcessResult empty = scan(world->alice, "no tokens\n", {"--json"});
    EXPECT_EQ(empty.exit_code, 0);
    EXPECT_EQ(json::parse(empty.out), json::array());
}

TEST_F(ScanTest, FilesAndDirectoriesAndWhatCannotBeRead) {
    const std::string token = create(world->alice, "in-a-file");
    const TempDir tree("apitoken-scan-test");
    std::filesystem::permissions(
        tree.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                         std::filesystem::perms::others_exec | std::filesystem::perms::others_read);
    std::filesystem::create_directories(tree / "repo" / "src");
    std::ofstream(tree / "repo" / "src" / "config.py")
        << "# settings\n\nTOKEN = '" << token << "'\n";
    std::ofstream(tree / "repo" / "secret") << token;
    std::filesystem::permissions(tree / "repo" / "secret", std::filesystem::perms::owner_read);
    const ProcessResult r = ctl(world->alice, {"scan", (tree / "repo").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, (tree / "repo" / "src" / "config.py").string() + ":3:10: atk_" + id_of(token) +
                         "\u2026 live alice/in-a-file\n");
    EXPECT_TRUE(contains(r.err, (tree / "repo" / "secret").string() + ": Permission denied"))
        << r.err;
    expect_no_secret(r, {token});

    std::filesystem::remove(tree / "repo" / "src" / "config.py");
    const ProcessResult unreadable_only = ctl(world->alice, {"scan", (tree / "repo").string()});
    EXPECT_EQ(unreadable_only.exit_code, 2) << "like grep: nothing found, something unreadable";
}

TEST_F(ScanTest, DaemonNotRunningIsSaidClearlyAndOfflineNeedsNoDaemon) {
    const std::string token = create(world->alice, "ci");
    world->stop_daemon();
    const ProcessResult r = scan(world->alice, token);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(contains(r.err, "apitokend is not running")) << r.err;
    EXPECT_FALSE(contains(r.err, "org.freedesktop.DBus.Error")) << r.err;
    EXPECT_TRUE(contains(r.out, "atk_" + id_of(token) + "\u2026 unchecked\n")) << r.out;
    expect_no_secret(r, {token});

    const ProcessResult offline = scan(world->alice, "x " + token, {"--offline"});
    EXPECT_EQ(offline.exit_code, 1) << offline.err;
    EXPECT_EQ(offline.out, "(standard input):1:3: atk_" + id_of(token) + "\u2026 unchecked\n");
    EXPECT_EQ(offline.err, "");
    EXPECT_EQ(scan(world->alice, "no token", {"--offline"}).exit_code, 0);
    EXPECT_EQ(scan(world->alice, "no token").exit_code, 0) << "no token: the daemon is not asked";
    EXPECT_EQ(scan(world->alice, token, {"--offline", "--revoke"}).exit_code, 2) << "usage";
}

} // namespace
} // namespace apitoken::testing
