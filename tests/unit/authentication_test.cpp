// The authentication pipeline (daemon/authentication.*) driven step by
// step without a bus: the caller's identity and the hash verdict arrive in
// every order the daemon can see them, against a real LMDB store and real
// NSS users (root, daemon, bin exist on every Debian system).
#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "daemon/token_service.hpp"
#include "store/imported_hash.hpp"
#include "store/token_issuer.hpp"
#include "store/token_store.hpp"
#include "tests/support/stepped_pipeline.hpp"
#include "tests/support/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {
namespace {

using apitoken::testing::SteppedCallerLookup;
using apitoken::testing::SteppedHashRunner;
using ipc::Error;

constexpr uid_t kDaemonUid = 1; // "daemon" owns the tokens
const Caller kRoot{0, {}, 1};
const Caller kOwner{kDaemonUid, {}, 2};
const Caller kStranger{2, {}, 3}; // "bin": neither root, nor the owner, nor in a group

Config test_config() {
    Config config;
    config.hash = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    config.throttle_max_failures = 3;
    config.auth_group = "apitoken-no-such-group";
    config.admin_group = "apitoken-no-such-group";
    return config;
}

AuthRequest request(const std::string& user, store::SecretBuffer token,
                    const std::string& service) {
    AuthRequest out;
    out.user = user;
    out.token = std::move(token);
    out.service = service;
    return out;
}

// What one authenticate() answered, and how often.
struct Answers {
    int count = 0;
    std::optional<Failure> failure;
    std::string id;

    [[nodiscard]] bool succeeded() const { return count == 1 && !failure; }
    [[nodiscard]] bool refused_with(Error code) const {
        return count == 1 && failure && failure->code == code;
    }
};

class AuthenticationPipelineTest : public ::testing::Test {
protected:
    apitoken::testing::TempDir dir{"apitoken-pipeline"};
    Config config = test_config();
    std::FILE* log_file = std::tmpfile();
    AuditLog log{false, log_file};
    store::TokenStore store{apitoken::testing::options_for(dir)};
    SteppedHashRunner hashing;
    TokenService service{config, store, log, hashing};
    SteppedCallerLookup caller;
    Answers answers;

    ~AuthenticationPipelineTest() override { static_cast<void>(std::fclose(log_file)); }
    AuthenticationPipelineTest() = default;

public:
    AuthenticationPipelineTest(const AuthenticationPipelineTest&) = delete;
    AuthenticationPipelineTest& operator=(const AuthenticationPipelineTest&) = delete;
    AuthenticationPipelineTest(AuthenticationPipelineTest&&) = delete;
    AuthenticationPipelineTest& operator=(AuthenticationPipelineTest&&) = delete;

protected:
    store::IssuedToken issue(const std::string& name = "ci", std::uint64_t max_uses = 0) {
        store::TokenRequest request;
        request.user = "daemon";
        request.uid = kDaemonUid;
        request.name = name;
        request.max_uses = max_uses;
        return store::issue_token(store, request, config.hash, now());
    }

    static store::TimePoint now() {
        return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    }

    void authenticate(const std::string& user, std::string_view token, CallerLookup& lookup) {
        service.authentication().authenticate(
            request(user, store::SecretBuffer(token), "sshd"), lookup,
            [this](const std::optional<Failure>& failure, const std::string& id) {
                ++answers.count;
                answers.failure = failure;
                answers.id = id;
            });
    }
    void authenticate(const std::string& user, std::string_view token) {
        authenticate(user, token, caller);
    }

    std::string log_text() {
        static_cast<void>(std::fflush(log_file));
        std::rewind(log_file);
        std::string text;
        for (int c = std::fgetc(log_file); c != EOF; c = std::fgetc(log_file)) {
            text.push_back(static_cast<char>(c));
        }
        return text;
    }
};

TEST_F(AuthenticationPipelineTest, CredentialsFirstThenHash) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    ASSERT_TRUE(caller.asked());
    EXPECT_EQ(hashing.waiting(), 1U) << "the hash overlaps the question about the caller";
    ASSERT_TRUE(caller.answer(kRoot));
    EXPECT_EQ(answers.count, 0) << "answered before the hash said anything";
    hashing.run_one();
    EXPECT_TRUE(answers.succeeded());
    EXPECT_EQ(answers.id, token.record.id.hex());
    EXPECT_EQ(service.usage().pending(), 1U);
}

TEST_F(AuthenticationPipelineTest, HashFirstThenCredentials) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    hashing.run_one();
    EXPECT_EQ(answers.count, 0) << "answered before the caller was known";
    EXPECT_EQ(service.usage().pending(), 0U) << "a use counted before the caller was known";
    ASSERT_TRUE(caller.answer(kOwner));
    EXPECT_TRUE(answers.succeeded());
    EXPECT_EQ(service.usage().pending(), 1U);
}

TEST_F(AuthenticationPipelineTest, CallerRefusedWhileHashingLearnsNothingAndLeavesNoTrace) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    ASSERT_TRUE(caller.answer(kStranger));
    EXPECT_TRUE(answers.refused_with(Error::AccessDenied));
    hashing.run_all(); // the verify ends after the refusal
    EXPECT_EQ(answers.count, 1) << "answered twice";
    EXPECT_EQ(service.usage().pending(), 0U);
    EXPECT_EQ(service.authentication().throttle().tracked_sources(), 0U);
    EXPECT_EQ(log_text().find("succeeded"), std::string::npos) << log_text();
}

TEST_F(AuthenticationPipelineTest, CallerRefusedAfterTheHashLearnsNothing) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    hashing.run_one();
    ASSERT_TRUE(caller.answer(kStranger));
    EXPECT_TRUE(answers.refused_with(Error::AccessDenied));
    EXPECT_EQ(service.usage().pending(), 0U);
}

TEST_F(AuthenticationPipelineTest, CallerTheBusCannotNameIsRefusedOnce) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    ASSERT_TRUE(caller.answer(Failure{Error::AccessDenied, "cannot identify the caller"}));
    hashing.run_all();
    EXPECT_TRUE(answers.refused_with(Error::AccessDenied));
    EXPECT_EQ(service.usage().pending(), 0U);
}

TEST_F(AuthenticationPipelineTest, TokenRevokedDuringTheCheckFailsWithoutCountingAgainstTheCaller) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    ASSERT_TRUE(caller.answer(kOwner));
    store.revoke("daemon", token.record.id);
    hashing.run_one();
    EXPECT_TRUE(answers.refused_with(Error::AuthenticationFailed));
    EXPECT_EQ(service.usage().pending(), 0U);
    EXPECT_EQ(service.authentication().throttle().tracked_sources(), 0U);
    EXPECT_NE(log_text().find("revoked while it was being checked"), std::string::npos);
}

TEST_F(AuthenticationPipelineTest, ThrottledSourceIsRefusedEvenWithTheRightToken) {
    const auto token = issue();
    std::string wrong(token.text.view());
    wrong[20] = wrong[20] == 'a' ? 'b' : 'a'; // the CRC no longer matches: malformed
    for (unsigned i = 0; i < config.throttle_max_failures; ++i) {
        SteppedCallerLookup lookup;
        answers = {};
        authenticate("daemon", wrong, lookup);
        ASSERT_TRUE(lookup.answer(kOwner));
        hashing.run_all();
        ASSERT_TRUE(answers.refused_with(Error::AuthenticationFailed));
    }
    answers = {};
    authenticate("daemon", token.text.view());
    EXPECT_EQ(hashing.waiting(), 0U) << "no early hash for a user someone is throttled for";
    ASSERT_TRUE(caller.answer(kOwner));
    EXPECT_TRUE(answers.refused_with(Error::TooManyAttempts));
    EXPECT_EQ(hashing.waiting(), 0U) << "a throttled source costs no hash";
    hashing.run_all();
    EXPECT_EQ(answers.count, 1);
    EXPECT_EQ(service.usage().pending(), 0U);
}

TEST_F(AuthenticationPipelineTest, FullHashQueueAnswersBusyOnceTheCallerIsKnown) {
    const auto token = issue();
    hashing.idle = false;
    hashing.refuse_next = true;
    authenticate("daemon", token.text.view());
    EXPECT_EQ(answers.count, 0) << "answered before the caller was known";
    ASSERT_TRUE(caller.answer(kRoot));
    EXPECT_TRUE(answers.refused_with(Error::Busy));
}

TEST_F(AuthenticationPipelineTest, WrongSecretFailsAfterTheHashAndCounts) {
    const auto token = issue();
    const auto other = store::generate_token(); // right shape, unknown id
    authenticate("daemon", other.text.view());
    ASSERT_TRUE(caller.answer(kOwner));
    EXPECT_EQ(answers.count, 0) << "an unknown id must cost the same hash as a wrong secret";
    hashing.run_one();
    EXPECT_TRUE(answers.refused_with(Error::AuthenticationFailed));
    EXPECT_EQ(service.authentication().throttle().tracked_sources(), 1U);
    static_cast<void>(token);
}

TEST_F(AuthenticationPipelineTest, MalformedTokenCostsNoHash) {
    authenticate("daemon", "atk_not-a-token");
    EXPECT_EQ(hashing.waiting(), 0U);
    ASSERT_TRUE(caller.answer(kOwner));
    EXPECT_TRUE(answers.refused_with(Error::AuthenticationFailed));
}

TEST_F(AuthenticationPipelineTest, TheCallerThemselfIsResolvedOnceKnown) {
    const auto token = issue();
    authenticate("", token.text.view());
    EXPECT_EQ(hashing.waiting(), 0U) << "whose token it is depends on the caller";
    ASSERT_TRUE(caller.answer(kOwner));
    hashing.run_one();
    EXPECT_TRUE(answers.succeeded());
}

TEST_F(AuthenticationPipelineTest, InvalidArgumentsAreRefusedOnceTheCallerIsKnown) {
    const auto token = issue();
    service.authentication().authenticate(
        request("daemon", store::SecretBuffer(token.text.view()), "bad service/"), caller,
        [this](const std::optional<Failure>& failure, const std::string& /*id*/) {
            ++answers.count;
            answers.failure = failure;
        });
    EXPECT_EQ(hashing.waiting(), 0U);
    EXPECT_EQ(answers.count, 0);
    ASSERT_TRUE(caller.answer(kRoot));
    EXPECT_TRUE(answers.refused_with(Error::InvalidArgument));
}

TEST_F(AuthenticationPipelineTest, BusyWorkersWaitForTheCallerAndHashInItsLane) {
    const auto token = issue();
    hashing.idle = false;
    authenticate("daemon", token.text.view());
    EXPECT_EQ(hashing.waiting(), 0U) << "an unknown caller took a busy pool's slot";
    ASSERT_TRUE(caller.answer(kOwner));
    ASSERT_EQ(hashing.lanes.size(), 1U);
    EXPECT_EQ(hashing.lanes[0], (HashLane{kDaemonUid, ""})) << "a user's own lane is their uid";
    hashing.run_one();
    EXPECT_TRUE(answers.succeeded());
}

TEST_F(AuthenticationPipelineTest, ServicesGetALanePerRequesterWhateverUserItNames) {
    const auto token = issue();
    hashing.idle = false;
    const auto ask = [&](const std::string& user, const std::string& rhost) {
        AuthRequest r = request(user, store::SecretBuffer(token.text.view()), "sshd");
        r.rhost = rhost;
        r.ruser = "mallory";
        r.requester_uid = 1001;
        SteppedCallerLookup lookup;
        service.authentication().authenticate(
            std::move(r), lookup, [](const std::optional<Failure>&, const std::string&) {});
        ASSERT_TRUE(lookup.answer(kRoot));
    };
    ask("daemon", "192.0.2.1");
    ask("no-such-user-1", "192.0.2.1");
    ask("no-such-user-2", "192.0.2.1");
    ask("no-such-user-3", "192.0.2.2");
    ASSERT_EQ(hashing.lanes.size(), 4U);
    EXPECT_EQ(hashing.lanes[0], (HashLane{0, "192.0.2.1\nmallory\n1001"}));
    EXPECT_EQ(hashing.lanes[1], (HashLane{0, "192.0.2.1\nmallory\n1001\n(no such token)"}))
        << "checks of no real token wait apart from real ones";
    EXPECT_EQ(hashing.lanes[2], hashing.lanes[1]) << "a made-up user name buys no lane";
    EXPECT_NE(hashing.lanes[3], hashing.lanes[1]) << "another remote host has its own";
    hashing.run_all();
}

TEST_F(AuthenticationPipelineTest, ACallerKnownAtOnceIsHashedInItsLaneNotEarly) {
    const auto token = issue();
    apitoken::testing::KnownCallerLookup known(kOwner);
    service.authentication().authenticate(
        request("daemon", store::SecretBuffer(token.text.view()), "sshd"), known,
        [this](const std::optional<Failure>& failure, const std::string& /*id*/) {
            ++answers.count;
            answers.failure = failure;
        });
    EXPECT_EQ(hashing.early_starts, 0U);
    EXPECT_EQ(hashing.lanes.size(), 1U);
    hashing.run_one();
    EXPECT_TRUE(answers.succeeded());
}

// A known caller and idle workers: the hash runs on the loop thread and
// the answer comes at once, right or wrong, with the same checks; while
// another job waits, the next call takes its lane as before.
TEST_F(AuthenticationPipelineTest, AKnownCallersCheapHashRunsHereWhenTheWorkersAreIdle) {
    const auto token = issue();
    hashing.here = true;
    apitoken::testing::KnownCallerLookup known(kOwner);
    authenticate("daemon", token.text.view(), known);
    EXPECT_EQ(hashing.ran_here, 1U);
    EXPECT_TRUE(answers.succeeded()) << "answered at once";
    EXPECT_TRUE(hashing.lanes.empty());

    answers = {};
    const auto unknown = store::generate_token(); // right shape, unknown id: the dummy hash
    authenticate("daemon", unknown.text.view(), known);
    EXPECT_EQ(hashing.ran_here, 2U);
    EXPECT_TRUE(answers.refused_with(Error::AuthenticationFailed));

    // An early start waits (the caller is not known): the next call queues.
    answers = {};
    authenticate("daemon", token.text.view());
    EXPECT_EQ(hashing.early_starts, 1U);
    Answers second;
    service.authentication().authenticate(
        request("daemon", store::SecretBuffer(token.text.view()), "sshd"), known,
        [&second](const std::optional<Failure>& failure, const std::string& /*id*/) {
            ++second.count;
            second.failure = failure;
        });
    EXPECT_EQ(hashing.ran_here, 2U) << "ran here although a job waited";
    EXPECT_EQ(hashing.lanes.size(), 1U);
    ASSERT_TRUE(caller.answer(kRoot));
    hashing.run_all();
    EXPECT_TRUE(answers.succeeded());
    EXPECT_TRUE(second.succeeded());
}

TEST_F(AuthenticationPipelineTest, AnEarlyHashIsNotRepeatedOnceTheCallerIsKnown) {
    const auto token = issue();
    authenticate("daemon", token.text.view());
    EXPECT_EQ(hashing.early_starts, 1U);
    ASSERT_TRUE(caller.answer(kRoot));
    EXPECT_TRUE(hashing.lanes.empty()) << "hashed twice";
    hashing.run_all();
    EXPECT_TRUE(answers.succeeded());
}

// A one-time token checked twice at once (both hashes done together): one
// use is written, the other refused by the limit, and nothing is answered
// before the write.
TEST_F(AuthenticationPipelineTest, UsesOfALimitedTokenFinishingTogetherAreCountedInOneWrite) {
    const auto token = issue("once", 1);
    Answers first;
    Answers second;
    for (Answers* answers_of : {&first, &second}) {
        apitoken::testing::KnownCallerLookup known(kOwner);
        service.authentication().authenticate(
            request("daemon", store::SecretBuffer(token.text.view()), "sshd"), known,
            [answers_of](const std::optional<Failure>& failure, const std::string& id) {
                ++answers_of->count;
                answers_of->failure = failure;
                answers_of->id = id;
            });
    }
    ASSERT_EQ(hashing.waiting(), 2U);
    hashing.run_together(2);
    EXPECT_EQ(first.count + second.count, 2);
    EXPECT_EQ(static_cast<int>(first.succeeded()) + static_cast<int>(second.succeeded()), 1)
        << "a one-time token used twice";
    EXPECT_EQ(store.find(token.record.id)->use_count, 1U);
    EXPECT_EQ(service.usage().pending(), 0U) << "a limited token's use is not batched";
    EXPECT_NE(log_text().find("use limit reached"), std::string::npos) << log_text();
}

// Imported Jenkins tokens (issue 15): the known vector of Jenkins' own
// tests, imported for "daemon" as apitokenctl import-jenkins would.
constexpr std::string_view kJenkinsToken = "1147c3b70068c7b5573342ebb6ddc7f6ae";
constexpr std::string_view kJenkinsSha256 =
    "ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f";

class ImportedTokenTest : public AuthenticationPipelineTest {
protected:
    store::TokenRecord import(const std::string& user, uid_t uid, const std::string& uuid,
                              std::string_view sha256_hex = kJenkinsSha256) {
        store::TokenRecord record;
        record.id = store::TokenId::random();
        record.user = user;
        record.uid = uid;
        record.name = "jenkins " + uuid;
        record.created = now();
        record.hash = store::jenkins_hash_from_hex(sha256_hex);
        record.origin = store::kOriginJenkins;
        record.origin_id = uuid;
        EXPECT_TRUE(store.import_tokens({&record, 1}, false).at(0).imported);
        return record;
    }
    // Asks as root and runs the verify.
    Answers check(std::string_view token) {
        answers = {};
        apitoken::testing::KnownCallerLookup known(kRoot);
        authenticate("daemon", token, known);
        EXPECT_EQ(hashing.waiting(), 1U) << "every Jenkins-shaped check costs a verify";
        hashing.run_one();
        return answers;
    }
};

TEST_F(ImportedTokenTest, TheJenkinsStringWorksAndIsReHashedWithArgon2idOnFirstUse) {
    // Another user's import of the same value, and a second token of ours.
    static_cast<void>(import("bin", 2, "theirs"));
    static_cast<void>(import("daemon", kDaemonUid, "other", std::string(64, 'a')));
    const auto mine = import("daemon", kDaemonUid, "mine");
    const Answers first = check(kJenkinsToken);
    ASSERT_TRUE(first.succeeded()) << log_text();
    EXPECT_EQ(first.id, mine.id.hex());
    const std::string hash = store.find(mine.id)->hash;
    EXPECT_TRUE(hash.starts_with(store::kArgon2idPrefix)) << "still the SHA-256";
    // Once re-hashed it still works, as "11" + hex and (as in Jenkins) as the hex alone.
    EXPECT_TRUE(check(kJenkinsToken).succeeded()) << log_text();
    EXPECT_TRUE(check(kJenkinsToken.substr(2)).succeeded()) << log_text();
    EXPECT_EQ(store.find(mine.id)->hash, hash);
    EXPECT_NE(log_text().find(mine.id.hex()), std::string::npos) << "the log names the token";
    EXPECT_EQ(log_text().find(kJenkinsToken.substr(2)), std::string::npos) << "secret in the log";
}

TEST_F(ImportedTokenTest, WrongAndOtherUsersTokensFailAlike) {
    std::string wrong(kJenkinsToken);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    EXPECT_TRUE(check(kJenkinsToken).refused_with(Error::AuthenticationFailed))
        << "nothing imported for this user";
    static_cast<void>(import("bin", 2, "theirs"));
    EXPECT_TRUE(check(kJenkinsToken).refused_with(Error::AuthenticationFailed))
        << "another user's imported token";
    static_cast<void>(import("daemon", kDaemonUid, "mine"));
    EXPECT_TRUE(check(wrong).refused_with(Error::AuthenticationFailed));
    EXPECT_NE(log_text().find("no token imported from Jenkins matches"), std::string::npos);
}

// (Two failures: the throttle allows three per source.)
TEST_F(ImportedTokenTest, ExpiredAndRevokedImportedTokensFail) {
    const auto mine = import("daemon", kDaemonUid, "mine");
    store::TokenUpdate expire;
    expire.expires = std::optional<store::TimePoint>(now() - std::chrono::seconds(1));
    static_cast<void>(store.update("daemon", mine.id, expire));
    EXPECT_TRUE(check(kJenkinsToken).refused_with(Error::AuthenticationFailed));
    store.revoke("daemon", mine.id);
    EXPECT_TRUE(check(kJenkinsToken).refused_with(Error::AuthenticationFailed));
}

TEST_F(ImportedTokenTest, GuessesAreThrottledLikeNativeTokens) {
    static_cast<void>(import("daemon", kDaemonUid, "mine"));
    std::string wrong(kJenkinsToken);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    for (unsigned i = 0; i < config.throttle_max_failures; ++i) {
        EXPECT_TRUE(check(wrong).refused_with(Error::AuthenticationFailed));
    }
    answers = {};
    apitoken::testing::KnownCallerLookup known(kRoot);
    authenticate("daemon", kJenkinsToken, known);
    EXPECT_TRUE(answers.refused_with(Error::TooManyAttempts));
    EXPECT_EQ(hashing.waiting(), 0U) << "a throttled source costs no hashing";
}

} // namespace
} // namespace apitoken::daemon
