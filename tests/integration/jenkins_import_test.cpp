// apitokenctl import-jenkins against the real daemon on a private bus: the
// fixture JENKINS_HOME imported as root (names, times, use counts kept;
// legacy tokens imported, expired ones and users without an account
// skipped), a second run that imports nothing (not even a token revoked
// since), --dry-run, --user-map, --json, a hostile file in the home, and
// the refusal of a plain user. (Logging in with the imported tokens is
// tested with the jenkins_tokens PAM option.)
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace apitoken::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kKnownVectorHash =
    "ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f";
constexpr const char* kAliceCi = "23a7c9c5-0193-493f-a74b-db4d52c32346";
constexpr const char* kAliceDeploy = "63bf9492-da9b-400a-85e5-7117e0c20355";
constexpr const char* kBobLegacy = "fbcca440-5c29-46a3-bcd7-3065d75dbf9a";
constexpr const char* kGhostRobot = "25169906-79a8-4b71-9595-45676aa1239a";
constexpr const char* kCarolConfig =
    "users/carol_39960c0eb8827d4e1d70767cb8f889a1e285a16b9a5638d361f9fe6f5117f7bd/config.xml";

fs::path fixture_home() {
    return fs::path(APITOKEN_JENKINS_FIXTURE) / "jenkins_home";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The line of `text` that contains `needle` ("" when none does).
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (contains(line, needle)) {
            return line;
        }
    }
    return {};
}

// The tokens of `list`'s JSON by their Jenkins uuid.
std::map<std::string, json> by_origin_id(const json& tokens) {
    std::map<std::string, json> out;
    for (const json& token : tokens) {
        if (token.at("origin_id").is_string()) {
            out[token.at("origin_id").get<std::string>()] = token;
        }
    }
    return out;
}

class JenkinsImportTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
    }

    // apitokenctl import-jenkins as `as`, with the world's users visible to
    // the CLI (nss_wrapper: it looks the local users up) and days ending at
    // UTC midnight.
    ProcessResult import(const TestUser& as, const fs::path& home,
                         const std::vector<std::string>& options = {}) const {
        std::vector<std::string> argv;
        if (as.uid != 0) {
            std::string groups;
            for (const gid_t gid : as.groups) {
                groups += (groups.empty() ? "" : ",") + std::to_string(gid);
            }
            argv = {APITOKEN_SETPRIV, "--reuid=" + std::to_string(as.uid),
                    "--regid=" + std::to_string(as.uid),
                    groups.empty() ? "--clear-groups" : "--groups=" + groups, "--"};
        }
        argv.insert(argv.end(), {APITOKEN_CTL, "import-jenkins", home.string()});
        argv.insert(argv.end(), options.begin(), options.end());
        Environment env = world->nss_environment();
        env.insert(env.end(), {"DBUS_SYSTEM_BUS_ADDRESS=" + world->bus_address(), "TZ=UTC"});
        ProcessResult r = run_process(argv, env, std::chrono::seconds(60));
        EXPECT_FALSE(contains(r.out + r.err, kKnownVectorHash)) << "never a hash";
        return r;
    }

    ProcessResult ctl(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args);
    }

    // `list --json --user=USER` as root, by Jenkins uuid.
    std::map<std::string, json> imported_tokens_of(const std::string& user) const {
        const ProcessResult r = ctl(world->root, {"list", "--json", "--user=" + user});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 ? by_origin_id(json::parse(r.out).at("tokens"))
                                : std::map<std::string, json>{};
    }

    // A copy of the fixture home in the world's directory, without carol
    // (whose only token is the encrypted kind: a problem) unless asked.
    fs::path copy_of_home(bool with_carol = false) const {
        fs::path copy = world->dir() / "jenkins_home";
        fs::remove_all(copy);
        fs::copy(fixture_home(), copy, fs::copy_options::recursive);
        if (!with_carol) {
            fs::remove_all((copy / kCarolConfig).parent_path());
        }
        return copy;
    }
};

TEST_F(JenkinsImportTest, RootImportsTheHomeKeepingNamesTimesAndUses) {
    const ProcessResult r = import(world->root, fixture_home());
    EXPECT_EQ(r.exit_code, 1) << "carol's encrypted token is a problem: " << r.out << r.err;
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex("^alice: \"ci\" \u2192 \"ci\" \\(id [0-9a-f]{12}\\): imported$",
                          std::regex::multiline)))
        << r.out;
    EXPECT_TRUE(contains(r.out, "alice: \"deploy\" \u2192 \"deploy\" (id ")) << r.out;
    EXPECT_TRUE(contains(line_with(r.out, "bob: \"Legacy Token\""), "imported")) << r.out;
    EXPECT_TRUE(contains(r.out, "bob: \"nightly\": skipped: expired in Jenkins on 2024-01-31; "
                                "not imported\n"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "ghost: \"robot\": skipped: no local user ghost\n")) << r.out;
    EXPECT_TRUE(contains(r.out, "problem: " + (fixture_home() / kCarolConfig).string() + ": "))
        << r.out;
    EXPECT_TRUE(contains(r.out, "3 imported, 0 already imported, 2 skipped; 1 problem in files\n"))
        << r.out;

    const auto alice = imported_tokens_of("alice");
    ASSERT_EQ(alice.size(), 2U);
    const json& ci = alice.at(kAliceCi);
    EXPECT_EQ(ci.at("name"), "ci");
    EXPECT_EQ(ci.at("origin"), "jenkins");
    EXPECT_EQ(ci.at("created"), "2023-05-01T10:11:12Z");
    EXPECT_EQ(ci.at("expires"), nullptr);
    EXPECT_EQ(ci.at("use_count"), 42);
    EXPECT_EQ(ci.at("last_used"), "2025-06-30T23:59:59Z");
    const json& deploy = alice.at(kAliceDeploy);
    EXPECT_EQ(deploy.at("expires"), "2100-01-01T00:00:00Z") << "valid through 2099-12-31";
    EXPECT_EQ(deploy.at("use_count"), 3);
    const auto bob = imported_tokens_of("bob");
    ASSERT_EQ(bob.size(), 1U) << "the expired token is not imported";
    EXPECT_EQ(bob.at(kBobLegacy).at("use_count"), 1234);
    EXPECT_EQ(bob.at(kBobLegacy).at("origin"), "jenkins");
}

TEST_F(JenkinsImportTest, ASecondRunImportsNothingNotEvenARevokedToken) {
    const fs::path home = copy_of_home();
    const ProcessResult first = import(world->root, home);
    EXPECT_EQ(first.exit_code, 0) << "ghost and the expired token are reports: " << first.out
                                  << first.err;
    const std::string ci_id = imported_tokens_of("alice").at(kAliceCi).at("id");
    ASSERT_EQ(ctl(world->root, {"revoke", ci_id, "--user=alice"}).exit_code, 0);

    const ProcessResult second = import(world->root, home);
    EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_TRUE(contains(line_with(second.out, "alice: \"ci\""), ": already imported"))
        << second.out;
    EXPECT_TRUE(contains(line_with(second.out, "alice: \"deploy\""), ": already imported"))
        << second.out;
    EXPECT_TRUE(contains(second.out, "0 imported, 3 already imported, 2 skipped\n")) << second.out;
    const auto alice = imported_tokens_of("alice");
    EXPECT_EQ(alice.size(), 1U);
    EXPECT_FALSE(alice.contains(kAliceCi)) << "a revoked token never comes back";
}

TEST_F(JenkinsImportTest, ADryRunSaysWhatWouldBeImportedAndStoresNothing) {
    const fs::path home = copy_of_home();
    const ProcessResult r = import(world->root, home, {"--dry-run"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(line_with(r.out, "alice: \"ci\""), ": would import")) << r.out;
    EXPECT_TRUE(contains(r.out, "3 would be imported, 0 already imported, 2 skipped; dry run, "
                                "nothing stored\n"))
        << r.out;
    EXPECT_TRUE(imported_tokens_of("alice").empty());
    EXPECT_TRUE(imported_tokens_of("bob").empty());

    ASSERT_EQ(import(world->root, home).exit_code, 0);
    const ProcessResult again = import(world->root, home, {"--dry-run"});
    EXPECT_TRUE(contains(again.out, "0 would be imported, 3 already imported")) << again.out;
}

TEST_F(JenkinsImportTest, AUserMapPutsAJenkinsUsersTokensIntoAnotherAccount) {
    const fs::path home = copy_of_home();
    const fs::path map = world->dir() / "users.map";
    {
        std::ofstream out(map);
        out << "# Jenkins id  local user\n\nghost bob\n";
    }
    const ProcessResult r = import(world->root, home, {"--user-map=" + map.string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(imported_tokens_of("bob").contains(kGhostRobot)) << r.out;

    {
        std::ofstream out(map);
        out << "ghost bob\nalice\n";
    }
    const ProcessResult bad = import(world->root, home, {"--user-map=" + map.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_TRUE(contains(bad.err, map.string() + ":2: ")) << bad.err;
}

TEST_F(JenkinsImportTest, JsonListsEveryTokenAndParses) {
    const ProcessResult r =
        import(world->root, fixture_home(), {"--json", "--service=sshd", "--service=nginx"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const json out = json::parse(r.out);
    EXPECT_EQ(out.at("dry_run"), false);
    ASSERT_EQ(out.at("imported").size(), 3U) << r.out;
    const json& first = out.at("imported").at(0);
    EXPECT_EQ(first.at("jenkins_user"), "alice");
    EXPECT_EQ(first.at("user"), "alice");
    EXPECT_EQ(first.at("jenkins_uuid"), kAliceCi);
    EXPECT_EQ(first.at("jenkins_name"), "ci");
    EXPECT_EQ(first.at("result"), "imported");
    EXPECT_TRUE(std::regex_match(first.at("id").get<std::string>(), std::regex("[0-9a-f]{12}")));
    EXPECT_EQ(out.at("already_imported"), json::array());
    EXPECT_EQ(out.at("skipped").size(), 2U);
    EXPECT_EQ(out.at("failed"), json::array());
    ASSERT_EQ(out.at("problems").size(), 1U);
    EXPECT_EQ(out.at("problems").at(0).at("path"), (fixture_home() / kCarolConfig).string());
    EXPECT_EQ(imported_tokens_of("alice").at(kAliceCi).at("services"), (json{"nginx", "sshd"}));
}

TEST_F(JenkinsImportTest, ANameThatClashesIsMadeUniqueAndSaid) {
    ASSERT_EQ(ctl(world->alice, {"create", "ci"}).exit_code, 0);
    const ProcessResult r = import(world->root, copy_of_home());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto alice = imported_tokens_of("alice");
    ASSERT_TRUE(alice.contains(kAliceCi)) << r.out;
    const std::string name = alice.at(kAliceCi).at("name");
    EXPECT_NE(name, "ci");
    EXPECT_TRUE(contains(r.out, "alice: \"ci\" \u2192 \"" + name + "\" (id ")) << r.out;
}

TEST_F(JenkinsImportTest, AHostileFileIsReportedByPathAndTheOthersImport) {
    const fs::path home = copy_of_home();
    const fs::path hostile = home / "users" / "mallory_0123" / "config.xml";
    fs::create_directories(hostile.parent_path());
    fs::copy_file(fs::path(APITOKEN_JENKINS_FIXTURE) / "hostile" / "billion_laughs.xml", hostile);
    const ProcessResult r = import(world->root, home);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "problem: " + hostile.string() + ": ")) << r.out;
    EXPECT_EQ(imported_tokens_of("alice").size(), 2U);
}

TEST_F(JenkinsImportTest, APlainUserIsRefusedAnAdminMayImport) {
    const ProcessResult refused = import(world->alice, fixture_home());
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_TRUE(contains(refused.err, "access denied: only root and members of the "
                                      "apitoken-admin group may import tokens"))
        << refused.err;
    EXPECT_TRUE(contains(line_with(refused.out, "alice: \"ci\""), "not imported: access denied"))
        << refused.out;
    EXPECT_TRUE(imported_tokens_of("alice").empty());

    const ProcessResult admin = import(world->admin, copy_of_home());
    EXPECT_EQ(admin.exit_code, 0) << admin.out << admin.err;
    EXPECT_EQ(imported_tokens_of("alice").size(), 2U);
}

TEST_F(JenkinsImportTest, WithoutTheDaemonItSaysSoAndFails) {
    ASSERT_EQ(world->stop_daemon(), 0);
    const ProcessResult r = import(world->root, copy_of_home());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "apitokend is not running")) << r.err;
}

} // namespace
} // namespace apitoken::testing
