// read_jenkins_home on homes written as Jenkins writes them (fixture/).
#include "jenkins/jenkins_home.hpp"
#include "tests/jenkins/jenkins_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace apitoken::jenkins {
namespace {

using test::find_token;
using test::find_user;
using test::fixture;

constexpr std::string_view kKnownVectorHash =
    "ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f";

class JenkinsHomeTest : public ::testing::Test {
protected:
    test::LocalZone zone_{"UTC"};
};

std::vector<std::string> ids_of(const JenkinsHome& home) {
    std::vector<std::string> ids;
    for (const JenkinsUser& user : home.users) {
        ids.push_back(user.id);
    }
    return ids;
}

TEST_F(JenkinsHomeTest, ReadsEveryUserByTheIdInsideConfigXml) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    EXPECT_EQ(ids_of(home), (std::vector<std::string>{"alice", "bob", "carol", "ghost"}));
    const JenkinsUser* alice = find_user(home, "alice");
    ASSERT_NE(alice, nullptr);
    EXPECT_EQ(alice->config, test::user_dir(fixture() / "jenkins_home", "alice") / "config.xml");
}

TEST_F(JenkinsHomeTest, ReadsTheKnownVectorWithItsDatesAndStatistics) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    const JenkinsUser* alice = find_user(home, "alice");
    ASSERT_NE(alice, nullptr);
    ASSERT_EQ(alice->tokens.size(), 2U);
    const JenkinsToken& ci = alice->tokens[0];
    EXPECT_EQ(ci.name, "ci");
    EXPECT_EQ(ci.uuid, "23a7c9c5-0193-493f-a74b-db4d52c32346");
    EXPECT_EQ(ci.version, HashVersion::current);
    EXPECT_EQ(test::hex(ci.sha256), kKnownVectorHash);
    EXPECT_EQ(ci.created, 1682935872);   // 2023-05-01 10:11:12.123 UTC
    EXPECT_EQ(ci.expires, std::nullopt); // never
    EXPECT_EQ(ci.use_count, 42U);
    EXPECT_EQ(ci.last_used, 1751327999); // 2025-06-30 23:59:59.999 UTC

    const JenkinsToken& deploy = alice->tokens[1];
    EXPECT_EQ(deploy.name, "deploy");
    EXPECT_EQ(deploy.created, 1709193600);
    EXPECT_EQ(deploy.expires, 4102444800); // 2099-12-31 valid to 2100-01-01 00:00
    EXPECT_EQ(deploy.use_count, 3U);
    EXPECT_EQ(deploy.last_used, 1735787045);
}

TEST_F(JenkinsHomeTest, ReadsTheLegacyEntryAndTheExpiredToken) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    const JenkinsUser* bob = find_user(home, "bob");
    ASSERT_NE(bob, nullptr);
    ASSERT_EQ(bob->tokens.size(), 2U);
    const JenkinsToken* legacy = find_token(*bob, "Legacy Token");
    ASSERT_NE(legacy, nullptr);
    EXPECT_EQ(legacy->version, HashVersion::legacy);
    EXPECT_EQ(legacy->created, std::nullopt); // migrated: Jenkins did not know
    EXPECT_EQ(legacy->use_count, 1234U);
    EXPECT_EQ(legacy->last_used, 1551675967);
    EXPECT_EQ(test::hex(legacy->sha256),
              "e6c38fd8333df9a92d6fa2dae009ed781f05a2e356f8157392fadcc8a4766008");

    const JenkinsToken* nightly = find_token(*bob, "nightly");
    ASSERT_NE(nightly, nullptr);
    EXPECT_EQ(nightly->expires, 1706745600); // 2024-01-31, through its last second
    EXPECT_EQ(nightly->use_count, 7U);
    EXPECT_EQ(nightly->last_used, 1706739000);
}

TEST_F(JenkinsHomeTest, ExpiryFollowsTheLocalTimeZone) {
    const test::LocalZone berlin("Europe/Berlin");
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    const JenkinsToken* nightly = find_token(*find_user(home, "bob"), "nightly");
    ASSERT_NE(nightly, nullptr);
    EXPECT_EQ(nightly->expires, 1706745600 - 3600); // midnight in Berlin
}

TEST_F(JenkinsHomeTest, ReportsOnlyTheEncryptedTokenWithoutAHashedCopy) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    const JenkinsUser* carol = find_user(home, "carol");
    ASSERT_NE(carol, nullptr);
    EXPECT_TRUE(carol->tokens.empty());
    // bob's <apiToken> has its version-10 copy, which is imported: no problem.
    ASSERT_EQ(home.problems.size(), 1U);
    EXPECT_EQ(home.problems[0].path, carol->config);
    EXPECT_NE(home.problems[0].message.find("<apiToken>"), std::string::npos);
}

TEST_F(JenkinsHomeTest, AUserWithoutStatisticsHasNone) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home");
    const JenkinsUser* ghost = find_user(home, "ghost");
    ASSERT_NE(ghost, nullptr);
    ASSERT_EQ(ghost->tokens.size(), 1U);
    EXPECT_EQ(ghost->tokens[0].use_count, 0U);
    EXPECT_EQ(ghost->tokens[0].last_used, std::nullopt);
    EXPECT_EQ(ghost->tokens[0].created, 1742040000);
}

TEST_F(JenkinsHomeTest, TheDirectoryNameIsNeverTheId) {
    const test::TempDir dir;
    const auto home = test::copy_home(dir);
    const auto alice = test::user_dir(home, "alice");
    std::filesystem::rename(alice, home / "users" / "mallory_0123");
    const JenkinsHome read = read_jenkins_home(home);
    EXPECT_EQ(ids_of(read), (std::vector<std::string>{"alice", "bob", "carol", "ghost"}));
    EXPECT_EQ(find_user(read, "alice")->tokens.size(), 2U);
}

TEST_F(JenkinsHomeTest, UsersXmlNamesAnOldConfigWithoutId) {
    const JenkinsHome home = read_jenkins_home(fixture() / "jenkins_home_2_150");
    EXPECT_EQ(ids_of(home), (std::vector<std::string>{"erin", "frank"}));
    EXPECT_TRUE(home.problems.empty());
    const JenkinsUser* erin = find_user(home, "erin");
    ASSERT_NE(erin, nullptr);
    ASSERT_EQ(erin->tokens.size(), 1U);
    EXPECT_EQ(erin->tokens[0].name, "laptop");
    EXPECT_EQ(erin->tokens[0].created, 1628503872);
}

TEST_F(JenkinsHomeTest, AConfigWithoutIdAndNoUsersXmlEntryIsReported) {
    const test::TempDir dir;
    const auto home = test::copy_home(dir, "jenkins_home_2_150");
    std::filesystem::remove(home / "users" / "users.xml");
    const JenkinsHome read = read_jenkins_home(home);
    EXPECT_EQ(ids_of(read), (std::vector<std::string>{"frank"}));
    ASSERT_EQ(read.problems.size(), 1U);
    EXPECT_EQ(read.problems[0].path, home / "users" / "erin_6639871027538302990" / "config.xml");
}

TEST_F(JenkinsHomeTest, TwoDirectoriesWithOneIdKeepTheFirst) {
    const test::TempDir dir;
    const auto home = test::copy_home(dir);
    const auto ghost = test::user_dir(home, "ghost");
    std::filesystem::copy(ghost, home / "users" / "zzz_copy");
    const JenkinsHome read = read_jenkins_home(home);
    EXPECT_EQ(find_user(read, "ghost")->config, ghost / "config.xml");
    ASSERT_EQ(read.problems.size(), 2U); // carol's <apiToken>, then the copy
    EXPECT_EQ(read.problems[1].path, home / "users" / "zzz_copy" / "config.xml");
}

TEST_F(JenkinsHomeTest, NotAJenkinsHome) {
    const test::TempDir dir;
    const JenkinsHome read = read_jenkins_home(dir.path());
    EXPECT_TRUE(read.users.empty());
    ASSERT_EQ(read.problems.size(), 1U);
    EXPECT_EQ(read.problems[0].path, dir.path() / "users");
}

} // namespace
} // namespace apitoken::jenkins
