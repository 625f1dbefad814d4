// Logging in with imported Jenkins API tokens (issue 15) through the real
// path: apitokenctl import-jenkins of the fixture JENKINS_HOME as root, then
// pamtester through pam_wrapper and pam_apitoken.so with the jenkins_tokens
// option, against the real daemon on a private bus. The tokens' clear text
// is in tests/jenkins/fixture/README.md. (nginx with curl -u is in
// services_test.cpp.)
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace apitoken::testing {
namespace {

using nlohmann::json;

constexpr const char* kAliceCi = "1147c3b70068c7b5573342ebb6ddc7f6ae"; // the known vector
constexpr const char* kAliceCiUuid = "23a7c9c5-0193-493f-a74b-db4d52c32346";
constexpr const char* kAliceDeploy = "1176dd4021c37cd60d99eb71a7cc9c074c";
constexpr const char* kBobLegacy = "8baae34eda2267a7bd257baf8f7c90fb";
constexpr const char* kBobExpired = "11e6826adeed47b03a2ec854b6655b0ff0";
constexpr const char* kGhostRobot = "11efab9fb9e8b94b32baecf9f4458e506a";

class JenkinsAuthTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
        world->write_pam_service("jenkins",
                                 "auth required " APITOKEN_PAM_MODULE " jenkins_tokens debug\n");
        world->write_pam_service("plain", "auth required " APITOKEN_PAM_MODULE "\n");
        // The CLI looks the local users up: the world's, through nss_wrapper.
        Environment env = world->nss_environment();
        env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + world->bus_address());
        const ProcessResult r = run_process(
            {APITOKEN_CTL, "import-jenkins",
             (std::filesystem::path(APITOKEN_JENKINS_FIXTURE) / "jenkins_home").string()},
            env, std::chrono::seconds(60));
        ASSERT_NE(r.exit_code, 2) << r.out << r.err;
        ASSERT_NE(imported_id(kAliceCiUuid), "") << r.out << r.err << world->daemon_log();
    }

    ProcessResult ctl(std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(world->root, args);
    }

    // The apitoken id of the token imported from Jenkins token `uuid`.
    std::string imported_id(const std::string& uuid) const {
        const ProcessResult r = ctl({"list", "--json", "--user=alice"});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        if (r.exit_code != 0) {
            return {};
        }
        const json listed = json::parse(r.out);
        for (const json& token : listed.at("tokens")) {
            if (token.at("origin_id").is_string() && token.at("origin_id") == uuid) {
                return token.at("id").get<std::string>();
            }
        }
        return {};
    }

    bool logs_in(const std::string& service, const std::string& user,
                 const std::string& token) const {
        return login_succeeded(world->pamtester(world->root, service, user, token + "\n"));
    }
};

TEST_F(JenkinsAuthTest, ImportedTokensLogInWithTheOptionOnly) {
    const std::size_t imported_log = world->daemon_log().size(); // the import names the id too
    EXPECT_TRUE(logs_in("jenkins", "alice", kAliceCi)) << world->daemon_log();
    EXPECT_TRUE(logs_in("jenkins", "alice", kAliceDeploy));
    EXPECT_TRUE(logs_in("jenkins", "bob", kBobLegacy)) << "a legacy (version 10) token";
    // Without the option the module does not even ask the daemon.
    const std::string before = world->daemon_log();
    EXPECT_FALSE(logs_in("plain", "alice", kAliceCi));
    EXPECT_EQ(world->daemon_log().size(), before.size()) << "the daemon was asked";
    // The success is logged with the apitoken id, never the token.
    const std::string logins = world->daemon_log().substr(imported_log);
    const std::string id = imported_id(kAliceCiUuid);
    bool success_names_id = false;
    for (std::size_t at = 0;
         (at = logins.find("token authentication succeeded", at)) != std::string::npos; ++at) {
        const std::string line = logins.substr(at, logins.find('\n', at) - at);
        success_names_id = success_names_id || line.find(id) != std::string::npos;
    }
    EXPECT_TRUE(success_names_id) << logins;
    EXPECT_EQ(world->daemon_log().find(std::string(kAliceCi).substr(2)), std::string::npos);
}

TEST_F(JenkinsAuthTest, OnlyTheUsersOwnLiveImportedTokensWork) {
    EXPECT_FALSE(logs_in("jenkins", "bob", kAliceCi)) << "alice's token is not bob's";
    EXPECT_FALSE(logs_in("jenkins", "bob", kBobExpired)) << "expired in Jenkins";
    EXPECT_FALSE(logs_in("jenkins", "alice", kGhostRobot)) << "ghost has no account here";
    std::string wrong = kAliceCi;
    wrong.back() = wrong.back() == 'e' ? 'f' : 'e';
    EXPECT_FALSE(logs_in("jenkins", "alice", wrong));
    EXPECT_NE(world->daemon_log().find("no token imported from Jenkins matches"), std::string::npos)
        << world->daemon_log();
}

TEST_F(JenkinsAuthTest, TheTokenStopsAfterRevokeAndStillWorksAfterItsFirstUse) {
    const std::string id = imported_id(kAliceCiUuid);
    ASSERT_TRUE(logs_in("jenkins", "alice", kAliceCi)) << world->daemon_log();
    // Re-hashed on that first use; the same string keeps working, as does
    // (as in Jenkins) its 32 hex characters alone.
    EXPECT_TRUE(logs_in("jenkins", "alice", kAliceCi));
    EXPECT_TRUE(logs_in("jenkins", "alice", std::string(kAliceCi).substr(2)));
    ASSERT_EQ(ctl({"revoke", id, "--user=alice"}).exit_code, 0);
    EXPECT_FALSE(logs_in("jenkins", "alice", kAliceCi)) << "revoked";
}

// Scope applies to an imported token as to a native one: limited to a
// service, it is refused through another (with jenkins_tokens too).
TEST_F(JenkinsAuthTest, AnImportedTokenLimitedToAServiceIsRefusedThroughAnother) {
    world->write_pam_service("jenkins-sftp",
                             "auth required " APITOKEN_PAM_MODULE " jenkins_tokens\n");
    ASSERT_TRUE(logs_in("jenkins-sftp", "alice", kAliceCi)) << world->daemon_log();
    const std::string id = imported_id(kAliceCiUuid);
    const ProcessResult r = ctl({"update", id, "--user=alice", "--service=jenkins"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(logs_in("jenkins", "alice", kAliceCi)) << world->daemon_log();
    EXPECT_FALSE(logs_in("jenkins-sftp", "alice", kAliceCi))
        << "an imported token limited to jenkins worked through jenkins-sftp";
}

TEST_F(JenkinsAuthTest, RotateTurnsAnImportedTokenIntoANativeOne) {
    const std::string id = imported_id(kAliceCiUuid);
    const ProcessResult r = ctl({"rotate", id, "--user=alice"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string native;
    for (std::size_t at = r.out.find("atk_"); at != std::string::npos && native.empty();
         at = r.out.find("atk_", at + 1)) {
        native = r.out.substr(at, 56);
    }
    ASSERT_EQ(native.size(), 56U) << r.out;
    EXPECT_TRUE(logs_in("plain", "alice", native)) << world->daemon_log();
    EXPECT_FALSE(logs_in("jenkins", "alice", kAliceCi)) << "the Jenkins string after rotation";
    const json listed = json::parse(ctl({"list", "--json", "--user=alice"}).out);
    bool found = false;
    for (const json& token : listed.at("tokens")) {
        if (token.at("id") == native.substr(4, 12)) {
            EXPECT_EQ(token.at("origin"), "apitoken");
            found = true;
        }
    }
    EXPECT_TRUE(found) << listed.dump();
}

} // namespace
} // namespace apitoken::testing
