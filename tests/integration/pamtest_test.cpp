// pam_apitoken.so through libpamtest (run_pamtest) in this process: the exact
// PAM return codes of design.md's table, and PAM_AUTHTOK for the next module.
// ctest starts this binary with libpam_wrapper.so preloaded.
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
// libpamtest.h has no extern "C" of its own.
extern "C" {
#include <libpamtest.h>
}
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace apitoken::testing {
namespace {

class PamtestTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
        const CallResult created = world->call(world->root, {"create", "alice", "pam", "0"});
        ASSERT_TRUE(created.ok()) << created.raw;
        token = created.fields.at(1);
        world->write_pam_service("apitoken", "auth required " APITOKEN_PAM_MODULE "\n");
        world->write_pam_service("apitoken-items", "auth required " APITOKEN_PAM_MODULE
                                                   "\nauth required " APITOKEN_PAM_GET_ITEMS "\n");
        // This process is the PAM application: point it at this test's world.
        world->use_pam_environment_here();
    }

    // pam_authenticate's return code for `input` typed at the prompt.
    static int authenticate(const std::string& user, const char* input,
                            const char* service = "apitoken") {
        const char* answers[] = {input, nullptr};
        pamtest_conv_data conv{};
        conv.in_echo_off = answers;
        pam_testcase cases[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS)};
        const pamtest_err err = run_pamtest(service, user.c_str(), &conv, cases, nullptr);
        EXPECT_TRUE(err == PAMTEST_ERR_OK || err == PAMTEST_ERR_CASE) << pamtest_strerror(err);
        return cases[0].op_rv;
    }

    std::string token;
};

TEST_F(PamtestTest, ReturnCodeTable) {
    EXPECT_EQ(authenticate("alice", token.c_str()), PAM_SUCCESS);
    std::string wrong = token;
    wrong[20] = wrong[20] == '0' ? '1' : '0';
    EXPECT_EQ(authenticate("alice", wrong.c_str()), PAM_AUTH_ERR) << "malformed";
    EXPECT_EQ(authenticate("alice", "password"), PAM_AUTH_ERR) << "not a token";
    EXPECT_EQ(authenticate("nosuchuser", token.c_str()), PAM_USER_UNKNOWN);
    EXPECT_EQ(authenticate("alice", nullptr), PAM_CONV_ERR) << "the conversation gave no answer";
    ASSERT_EQ(world->stop_daemon(), 0);
    EXPECT_EQ(authenticate("alice", token.c_str()), PAM_AUTHINFO_UNAVAIL);
}

TEST_F(PamtestTest, ThrottledIsMaxtries) {
    world->stop_daemon();
    world->set_config("throttle_max_failures = 1\n");
    world->start_daemon();
    const std::string other_secret = token.substr(0, 16) + std::string(32, 'f') + token.substr(48);
    // The checksum no longer matches, so this counts as a malformed failure.
    EXPECT_EQ(authenticate("alice", other_secret.c_str()), PAM_AUTH_ERR);
    EXPECT_EQ(authenticate("alice", other_secret.c_str()), PAM_MAXTRIES);
    EXPECT_EQ(authenticate("alice", token.c_str()), PAM_MAXTRIES)
        << "a throttled source is not told whether a token is right";
}

TEST_F(PamtestTest, TokenIsVisibleToTheNextModuleAsAuthtok) {
    const char* answers[] = {token.c_str(), nullptr};
    pamtest_conv_data conv{};
    conv.in_echo_off = answers;
    pam_testcase cases[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
    };
    ASSERT_EQ(run_pamtest("apitoken-items", "alice", &conv, cases, nullptr), PAMTEST_ERR_OK);
    bool found = false;
    for (char** env = cases[1].case_out.envlist; env != nullptr && *env != nullptr; ++env) {
        found = found || std::string(*env) == "PAM_AUTHTOK=" + token;
    }
    pamtest_free_env(cases[1].case_out.envlist);
    EXPECT_TRUE(found) << "pam_get_items saw no PAM_AUTHTOK equal to the token";
}

TEST_F(PamtestTest, SetcredSucceeds) {
    const char* answers[] = {token.c_str(), nullptr};
    pamtest_conv_data conv{};
    conv.in_echo_off = answers;
    pam_testcase cases[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
    };
    EXPECT_EQ(run_pamtest("apitoken", "alice", &conv, cases, nullptr), PAMTEST_ERR_OK);
}

} // namespace
} // namespace apitoken::testing
