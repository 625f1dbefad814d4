// One token's whole life with debug output on everywhere (apitokend --debug,
// pam_apitoken.so debug, apitokenctl), then every byte that any of them
// printed or logged, and every file of the state directory, searched for
// the token's secret. The only place it may appear is the first line of
// `apitokenctl create`'s standard output.
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace apitoken::testing {
namespace {

class SecretsTest : public WorldTest {
protected:
    ProcessResult ctl(const std::vector<std::string>& args) {
        std::vector<std::string> argv{APITOKEN_CTL};
        argv.insert(argv.end(), args.begin(), args.end());
        ProcessResult r = world->run_as(world->alice, argv);
        everything += r.out + r.err;
        return r;
    }

    // As root by default; another caller is another throttle source.
    ProcessResult pam(const std::string& service, const std::string& typed,
                      const TestUser* as = nullptr) {
        ProcessResult r =
            world->pamtester(as != nullptr ? *as : world->root, service, "alice", typed + "\n");
        everything += r.out + r.err;
        return r;
    }

    // All output but create's first line, as it accumulates.
    std::string everything;
};

std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(SecretsTest, TheSecretIsNowhereButInCreatesFirstLine) {
    world->set_config("throttle_max_failures = 2\n");
    world->start_daemon(/*debug=*/true);
    world->write_pam_service("debug-tokens", "auth required " APITOKEN_PAM_MODULE " debug\n");
    {
        std::ofstream passdb(world->dir() / "passdb");
        passdb << "alice:correct horse battery staple:token-or-password\n";
    }
    world->write_pam_service("token-or-password", "auth sufficient " APITOKEN_PAM_MODULE " debug\n"
                                                  "auth required " APITOKEN_PAM_MATRIX " passdb=" +
                                                      (world->dir() / "passdb").string() + "\n");

    const ProcessResult created = ctl({"create", "ci-upload", "--expires=30d"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const std::string token = created.out.substr(0, created.out.find('\n'));
    ASSERT_TRUE(store::parse_token(token)) << created.out;
    EXPECT_EQ(created.out, token + "\n") << "stdout holds the token and nothing else";
    everything.erase(everything.find(token), token.size());
    const std::string id = token.substr(4, 12);
    const std::string secret = token.substr(16, 32);
    const std::string wrong(store::generate_token(*store::TokenId::from_hex(id)).text.view());

    EXPECT_EQ(pam("debug-tokens", token).exit_code, 0) << "success";
    EXPECT_NE(pam("debug-tokens", wrong).exit_code, 0) << "wrong secret";
    EXPECT_NE(pam("debug-tokens", wrong).exit_code, 0);
    EXPECT_NE(pam("debug-tokens", token).exit_code, 0) << "throttled, even the right token";
    EXPECT_EQ(pam("token-or-password", "correct horse battery staple\ncorrect horse battery staple")
                  .exit_code,
              0)
        << "the password, typed at the module's prompt";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"list"}, {"list", "--json"}, {"status"}, {"rename", id, "nightly"}, {"revoke", id}}) {
        EXPECT_EQ(ctl(args).exit_code, 0) << args.front();
    }
    EXPECT_NE(pam("debug-tokens", token, &world->www).exit_code, 0) << "revoked";
    EXPECT_EQ(world->stop_daemon(), 0);
    const std::string daemon_log = world->daemon_log();
    everything += daemon_log;

    ASSERT_NE(daemon_log.find(id), std::string::npos) << "the logs are there, and name the id";
    ASSERT_NE(daemon_log.find("too many failed attempts from this source"), std::string::npos)
        << "the throttled attempt was made";
    ASSERT_NE(daemon_log.find("no such token for this user"), std::string::npos)
        << "the revoked token was tried";
    ASSERT_NE(everything.find("asking apitokend"), std::string::npos) << "the module's debug";
    // Halves too, so that a secret split or cut short in a message is found.
    for (const auto& part : {secret, secret.substr(0, 16), secret.substr(16)}) {
        EXPECT_EQ(everything.find(part), std::string::npos) << "in the output: " << part;
        for (const auto& file : std::filesystem::directory_iterator(world->state_dir())) {
            EXPECT_EQ(file_bytes(file.path()).find(part), std::string::npos) << file.path();
        }
    }
    EXPECT_EQ(daemon_log.find("correct horse"), std::string::npos)
        << "a password never leaves the service's process";
}

} // namespace
} // namespace apitoken::testing
