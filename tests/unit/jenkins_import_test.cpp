// import-jenkins without the bus: which tokens go where (local users,
// expired tokens, legacy ones), the ImportTokens entries they become, and
// what the command prints (lines, JSON, exit status). Never a hash.
#include "cli/exit_status.hpp"
#include "cli/import_report.hpp"
#include "cli/jenkins_import.hpp"
#include "ipc/bus_api.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace apitoken::cli {
namespace {

using nlohmann::json;
namespace key = ipc::key;
namespace import_result = ipc::import_result;

constexpr std::int64_t kNow = 1'800'000'000; // 2027-01-15T08:00:00Z
constexpr std::string_view kKnownVectorHash =
    "ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f";

// Expiry days end at local midnight: these tests pin the zone to UTC.
class JenkinsImport : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* old = std::getenv("TZ")) { // NOLINT(concurrency-mt-unsafe)
            old_tz_ = old;
        }
        ::setenv("TZ", "UTC", 1); // NOLINT(concurrency-mt-unsafe)
        ::tzset();
    }
    void TearDown() override {
        if (old_tz_) {
            ::setenv("TZ", old_tz_->c_str(), 1); // NOLINT(concurrency-mt-unsafe)
        } else {
            ::unsetenv("TZ"); // NOLINT(concurrency-mt-unsafe)
        }
        ::tzset();
    }

private:
    std::optional<std::string> old_tz_;
};

jenkins::Sha256 known_vector() {
    jenkins::Sha256 hash{};
    for (std::size_t i = 0; i < hash.size(); ++i) {
        hash[i] = static_cast<std::uint8_t>(
            std::stoul(std::string(kKnownVectorHash.substr(i * 2, 2)), nullptr, 16));
    }
    return hash;
}

jenkins::JenkinsToken token(std::string name, std::string uuid) {
    jenkins::JenkinsToken t;
    t.name = std::move(name);
    t.uuid = std::move(uuid);
    t.sha256 = known_vector();
    return t;
}

jenkins::JenkinsToken alices_ci() {
    jenkins::JenkinsToken t = token("ci", "23a7c9c5-0193-493f-a74b-db4d52c32346");
    t.created = 1682935872;
    t.use_count = 42;
    t.last_used = 1751327999;
    return t;
}

// alice (two tokens, one expired), bob (a legacy token), ghost (no local
// account), carol (no tokens).
jenkins::JenkinsHome home() {
    jenkins::JenkinsHome h;
    jenkins::JenkinsToken expired = token("old", "11111111-2222-3333-4444-555555555555");
    expired.expires = 1706745600; // 2024-01-31 valid to 2024-02-01 00:00
    jenkins::JenkinsToken legacy = token("Legacy Token", "fbcca440-5c29-46a3-bcd7-3065d75dbf9a");
    legacy.version = jenkins::HashVersion::legacy;
    h.users.push_back({"alice", "/jh/users/alice_x/config.xml", {alices_ci(), expired}});
    h.users.push_back({"bob", "/jh/users/bob_x/config.xml", {legacy}});
    h.users.push_back({"carol", "/jh/users/carol_x/config.xml", {}});
    h.users.push_back(
        {"ghost", "/jh/users/ghost_x/config.xml", {token("robot", "2516-ghost-uuid")}});
    return h;
}

bool local_users(const std::string& name) {
    return name == "alice" || name == "bob" || name == "carol" || name == "root";
}

template <typename T>
T value_at(const ipc::Dictionary& dictionary, const char* name) {
    bool wrong_type = false;
    const auto value = ipc::value_of<T>(dictionary, name, wrong_type);
    EXPECT_FALSE(wrong_type) << name;
    EXPECT_TRUE(value) << name;
    return value.value_or(T{});
}

TEST_F(JenkinsImport, EachUsersLiveTokensGoToTheLocalUserOfTheSameName) {
    const ImportPlan plan = plan_import(home(), UserMap{}, local_users, kNow);
    ASSERT_EQ(plan.users.size(), 2U) << "carol has no tokens, ghost no account";
    EXPECT_EQ(plan.users[0].jenkins_user, "alice");
    EXPECT_EQ(plan.users[0].local_user, "alice");
    ASSERT_EQ(plan.users[0].tokens.size(), 1U);
    EXPECT_EQ(plan.users[0].tokens[0].name, "ci");
    EXPECT_EQ(plan.users[1].jenkins_user, "bob");
    ASSERT_EQ(plan.users[1].tokens.size(), 1U);
    EXPECT_EQ(plan.users[1].tokens[0].version, jenkins::HashVersion::legacy)
        << "legacy tokens are imported like current ones";
}

TEST_F(JenkinsImport, ExpiredTokensAndUsersWithoutAccountAreSkippedWithTheReason) {
    const ImportPlan plan = plan_import(home(), UserMap{}, local_users, kNow);
    ASSERT_EQ(plan.skipped.size(), 2U);
    EXPECT_EQ(plan.skipped[0].jenkins_user, "alice");
    EXPECT_EQ(plan.skipped[0].token_name, "old");
    EXPECT_EQ(plan.skipped[0].token_uuid, "11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(plan.skipped[0].reason, "expired in Jenkins on 2024-01-31; not imported");
    EXPECT_EQ(plan.skipped[1].jenkins_user, "ghost");
    EXPECT_EQ(plan.skipped[1].token_name, "robot");
    EXPECT_EQ(plan.skipped[1].reason, "no local user ghost");
}

TEST_F(JenkinsImport, ATokenExpiresAtTheFirstSecondAfterItsDay) {
    jenkins::JenkinsHome h;
    jenkins::JenkinsToken last_day = token("today", "u1");
    last_day.expires = kNow + 1; // still valid for one second
    jenkins::JenkinsToken just_ended = token("ended", "u2");
    just_ended.expires = kNow; // expires <= now: expired
    h.users.push_back({"alice", "c", {last_day, just_ended}});
    const ImportPlan plan = plan_import(h, UserMap{}, local_users, kNow);
    ASSERT_EQ(plan.users.size(), 1U);
    ASSERT_EQ(plan.users[0].tokens.size(), 1U);
    EXPECT_EQ(plan.users[0].tokens[0].name, "today");
    ASSERT_EQ(plan.skipped.size(), 1U);
    EXPECT_EQ(plan.skipped[0].token_name, "ended");
    EXPECT_EQ(expiry_day(4102444800), "2099-12-31");
}

TEST_F(JenkinsImport, TheUserMapChoosesTheLocalUser) {
    UserMap map;
    ASSERT_TRUE(map.add("ghost", "root"));
    ASSERT_TRUE(map.add("bob", "nobody-here"));
    const ImportPlan plan = plan_import(home(), map, local_users, kNow);
    ASSERT_EQ(plan.users.size(), 2U);
    EXPECT_EQ(plan.users[0].jenkins_user, "alice");
    EXPECT_EQ(plan.users[1].jenkins_user, "ghost");
    EXPECT_EQ(plan.users[1].local_user, "root");
    ASSERT_EQ(plan.skipped.size(), 2U);
    EXPECT_EQ(plan.skipped[1].jenkins_user, "bob");
    EXPECT_EQ(plan.skipped[1].reason, "no local user nobody-here") << "names the mapped user";
}

TEST_F(JenkinsImport, MoreTokensThanOneCallTakesIsRefusedWithAClearMessage) {
    UserImport user{"alice", "alice", {}};
    user.tokens.resize(ipc::kMaxImportTokens, alices_ci());
    EXPECT_EQ(too_many_tokens(user), std::nullopt);
    user.tokens.push_back(alices_ci());
    const auto message = too_many_tokens(user);
    ASSERT_TRUE(message);
    EXPECT_NE(message->find("1025 tokens"), std::string::npos) << *message;
    EXPECT_NE(message->find("1024"), std::string::npos) << *message;
}

TEST_F(JenkinsImport, AnEntryCarriesTheHashAsHexAndEveryTime) {
    const ipc::Dictionary entry = import_entry(alices_ci(), {}, false);
    EXPECT_EQ(value_at<std::string>(entry, key::kOriginId), "23a7c9c5-0193-493f-a74b-db4d52c32346");
    EXPECT_EQ(value_at<std::string>(entry, key::kName), "ci");
    EXPECT_EQ(value_at<std::string>(entry, key::kJenkinsHash), kKnownVectorHash);
    EXPECT_EQ(value_at<std::int64_t>(entry, key::kCreated), 1682935872);
    EXPECT_EQ(value_at<std::int64_t>(entry, key::kExpires), 0) << "never";
    EXPECT_EQ(value_at<std::int64_t>(entry, key::kLastUsed), 1751327999);
    EXPECT_EQ(value_at<std::uint64_t>(entry, key::kUseCount), 42U);
    EXPECT_FALSE(entry.contains(key::kServices)) << "no --service: any service";
    EXPECT_FALSE(entry.contains(key::kDryRun));
    EXPECT_EQ(entry.size(), 7U);
}

TEST_F(JenkinsImport, MissingTimesAreZeroAndOptionsGoIntoEveryEntry) {
    jenkins::JenkinsToken legacy = token("Legacy Token", "fbcca440");
    legacy.version = jenkins::HashVersion::legacy;
    legacy.expires = 4102444800;
    const UserImport user{"bob", "bob", {legacy, alices_ci()}};
    const auto entries = import_entries(user, {"sshd", "nginx"}, true);
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(value_at<std::int64_t>(entries[0], key::kCreated), 0) << "Jenkins did not know";
    EXPECT_EQ(value_at<std::int64_t>(entries[0], key::kLastUsed), 0);
    EXPECT_EQ(value_at<std::uint64_t>(entries[0], key::kUseCount), 0U);
    EXPECT_EQ(value_at<std::int64_t>(entries[0], key::kExpires), 4102444800);
    for (const auto& entry : entries) {
        EXPECT_EQ(value_at<std::vector<std::string>>(entry, key::kServices),
                  (std::vector<std::string>{"sshd", "nginx"}));
        EXPECT_TRUE(value_at<bool>(entry, key::kDryRun));
    }
}

TEST_F(JenkinsImport, HashHexIsLowercaseAndComplete) {
    jenkins::Sha256 hash{};
    hash.fill(0xAB);
    hash[0] = 0x00;
    hash[31] = 0x0f;
    std::string expected = "00";
    for (int i = 0; i < 30; ++i) {
        expected += "ab";
    }
    EXPECT_EQ(sha256_hex(hash), expected + "0f");
    EXPECT_EQ(sha256_hex(known_vector()), kKnownVectorHash);
}

// A report as after a run on home(): alice's ci imported (renamed), bob's
// legacy token already imported, the skipped ones, one problem.
ImportReport report(bool dry_run = false) {
    ImportReport r;
    r.dry_run = dry_run;
    r.tokens.push_back({"alice", "alice", "23a7c9c5-0193-493f-a74b-db4d52c32346", "ci",
                        "0123456789ab", "ci", import_result::kImported});
    r.tokens.push_back({"bob", "bob", "fbcca440-5c29-46a3-bcd7-3065d75dbf9a", "Legacy Token",
                        "abcdef012345", "Legacy-Token", import_result::kAlreadyImported});
    r.skipped = plan_import(home(), UserMap{}, local_users, kNow).skipped;
    r.problems.push_back({"/jh/users/carol_x/config.xml", "an encrypted legacy <apiToken>"});
    return r;
}

TEST_F(JenkinsImport, OneLinePerTokenThenProblemsThenASummary) {
    const std::string already =
        "bob: \"Legacy Token\" \u2192 \"Legacy-Token\" (id abcdef012345): already imported";
    EXPECT_EQ(report_lines(report()),
              (std::vector<std::string>{
                  "alice: \"ci\" \u2192 \"ci\" (id 0123456789ab): imported", already,
                  "alice: \"old\": skipped: expired in Jenkins on 2024-01-31; not imported",
                  "ghost: \"robot\": skipped: no local user ghost",
                  "problem: /jh/users/carol_x/config.xml: an encrypted legacy <apiToken>",
                  "1 imported, 1 already imported, 2 skipped; 1 problem in files"}));
}

TEST_F(JenkinsImport, ADryRunSaysWouldImportAndNothingStored) {
    ImportReport r = report(true);
    r.tokens[0].id.clear(); // a dry run may not name an id
    const auto lines = report_lines(r);
    EXPECT_EQ(lines.front(), "alice: \"ci\" \u2192 \"ci\": would import");
    EXPECT_EQ(lines.back(), "1 would be imported, 1 already imported, 2 skipped; 1 problem in "
                            "files; dry run, nothing stored");
}

TEST_F(JenkinsImport, MappedUsersAndFailuresAreSaid) {
    ImportReport r;
    const UserImport sent{"jenkins-bot", "alice", {alices_ci()}};
    add_results(sent,
                {{"23a7c9c5-0193-493f-a74b-db4d52c32346", import_result::kImported, "0123456789ab",
                  "ci-2"}},
                r);
    EXPECT_EQ(token_line(r.tokens.at(0), false),
              "jenkins-bot (as alice): \"ci\" \u2192 \"ci-2\" (id 0123456789ab): imported");
    add_failure(UserImport{"bob", "bob", {token("nightly", "u3")}}, "access denied", r);
    add_results(UserImport{"carol", "carol", {token("lost", "u4")}}, {}, r);
    ASSERT_EQ(r.failed.size(), 2U);
    EXPECT_EQ(failed_line(r.failed[0]), "bob: \"nightly\": not imported: access denied");
    EXPECT_EQ(r.failed[1].error, "apitokend did not answer for this token");
    EXPECT_EQ(summary_line(r),
              "1 imported, 0 already imported, 0 skipped, 2 not imported (failed)");
    EXPECT_EQ(import_exit_status(r), kExitFailed);
}

TEST_F(JenkinsImport, ExitStatusFailsOnProblemsAndFailuresNotOnSkips) {
    ImportReport r = report();
    EXPECT_EQ(import_exit_status(r), kExitFailed) << "a problem in a file";
    r.problems.clear();
    EXPECT_EQ(import_exit_status(r), kExitOk) << "skipped users and expired tokens are reports";
    EXPECT_EQ(import_exit_status(ImportReport{}), kExitOk);
}

// NOLINTBEGIN(misc-misleading-bidirectional): hostile names on purpose
TEST_F(JenkinsImport, NamesAndPathsCannotHideAnything) {
    ImportReport r;
    r.tokens.push_back(
        {"ev\x1b[2Jil", "alice", "u", "a\nb\u202e", "0123456789ab", "x", import_result::kImported});
    r.skipped.push_back({"gh\rost", "n\tame", "u2", "no local user gh\rost"});
    r.problems.push_back({"/jh/users/x\n/config.xml", "bad\x07"});
    for (const std::string& line : report_lines(r)) {
        for (const char c : line) {
            EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << line;
        }
        EXPECT_EQ(line.find("\u202e"), std::string::npos) << line;
    }
}
// NOLINTEND(misc-misleading-bidirectional)

TEST_F(JenkinsImport, JsonHasEveryListAndNeverAHash) {
    const json out = report_json(report());
    EXPECT_EQ(out["dry_run"], false);
    ASSERT_EQ(out["imported"].size(), 1U);
    EXPECT_EQ(out["imported"][0], (json{{"jenkins_user", "alice"},
                                        {"user", "alice"},
                                        {"jenkins_uuid", "23a7c9c5-0193-493f-a74b-db4d52c32346"},
                                        {"jenkins_name", "ci"},
                                        {"id", "0123456789ab"},
                                        {"name", "ci"},
                                        {"result", "imported"}}));
    ASSERT_EQ(out["already_imported"].size(), 1U);
    EXPECT_EQ(out["already_imported"][0]["name"], "Legacy-Token");
    EXPECT_EQ(out["already_imported"][0]["result"], "already_imported");
    ASSERT_EQ(out["skipped"].size(), 2U);
    EXPECT_EQ(out["skipped"][1], (json{{"jenkins_user", "ghost"},
                                       {"jenkins_name", "robot"},
                                       {"jenkins_uuid", "2516-ghost-uuid"},
                                       {"reason", "no local user ghost"}}));
    EXPECT_EQ(out["failed"], json::array());
    ASSERT_EQ(out["problems"].size(), 1U);
    EXPECT_EQ(out["problems"][0]["path"], "/jh/users/carol_x/config.xml");
    EXPECT_EQ(out.dump().find(kKnownVectorHash), std::string::npos);
    EXPECT_EQ(report_json(report(true))["dry_run"], true);
}

TEST_F(JenkinsImport, JsonCarriesAPathThatIsNotUtf8) {
    ImportReport r;
    r.problems.push_back({"/jh/users/caf\xe9/config.xml", "bad"});
    const json out = report_json(r);
    EXPECT_NO_THROW(static_cast<void>(out.dump()));
    EXPECT_EQ(out["problems"][0]["path"], "/jh/users/caf\\xE9/config.xml");
}

} // namespace
} // namespace apitoken::cli
