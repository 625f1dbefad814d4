// import-jenkins --user-map: the file's lines, comments, and the errors
// that name FILE:LINE.
#include "cli/user_map.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace apitoken::cli {
namespace {

UserMap parsed(std::string_view text) {
    UserMapParse parse = parse_user_map(text, "map");
    EXPECT_TRUE(parse.map) << parse.error;
    return parse.map.value_or(UserMap{});
}

std::string error_of(std::string_view text) {
    const UserMapParse parse = parse_user_map(text, "users.map");
    EXPECT_FALSE(parse.map);
    return parse.error;
}

TEST(UserMap, MapsListedIdsAndKeepsTheOthers) {
    const UserMap map = parsed("jenkins-bot alice\nBob.Smith\tbob\n");
    EXPECT_EQ(map.size(), 2U);
    EXPECT_EQ(map.local_user("jenkins-bot"), "alice");
    EXPECT_EQ(map.local_user("Bob.Smith"), "bob");
    EXPECT_EQ(map.local_user("carol"), "carol") << "not listed: the same name";
    EXPECT_EQ(map.local_user("bob.smith"), "bob.smith") << "ids are exact";
}

TEST(UserMap, BlankLinesCommentsAndCarriageReturnsAreIgnored) {
    const UserMap map = parsed("# Jenkins id   local user\n"
                               "\n"
                               "   \t\n"
                               "  # indented comment\n"
                               "  ci-robot   deploy   # after the pair\n"
                               "admin root\r\n"
                               "last alice"); // no newline at the end
    EXPECT_EQ(map.size(), 3U);
    EXPECT_EQ(map.local_user("ci-robot"), "deploy");
    EXPECT_EQ(map.local_user("admin"), "root");
    EXPECT_EQ(map.local_user("last"), "alice");
    EXPECT_EQ(parsed("").size(), 0U);
    EXPECT_EQ(parsed("# only a comment\n").size(), 0U);
}

TEST(UserMap, AMalformedLineIsAnErrorNamingFileAndLine) {
    EXPECT_EQ(error_of("alice alice\nbob\n"),
              "users.map:2: expected \"JENKINS_ID LOCAL_USER\", found 1 word");
    EXPECT_EQ(error_of("\n\nalice bob carol\n"),
              "users.map:3: expected \"JENKINS_ID LOCAL_USER\", found 3 words");
    EXPECT_EQ(error_of("a b c # comment\n"),
              "users.map:1: expected \"JENKINS_ID LOCAL_USER\", found 3 words");
}

TEST(UserMap, AnIdMappedTwiceIsAnError) {
    EXPECT_EQ(error_of("alice alice\n# x\nbob bob\nalice root\n"),
              "users.map:4: Jenkins user alice is mapped twice (first on line 1)");
    EXPECT_EQ(error_of("alice alice\nalice alice\n"),
              "users.map:2: Jenkins user alice is mapped twice (first on line 1)")
        << "even to the same user: a copy-paste slip is worth a look";
}

TEST(UserMap, ErrorsEscapeWhatTheyQuote) {
    const std::string error = error_of("x\x1b[2J y\nx\x1b[2J z\n");
    EXPECT_EQ(error.find('\x1b'), std::string::npos) << error;
    EXPECT_NE(error.find("users.map:2:"), std::string::npos) << error;
    const UserMapParse parse = parse_user_map("one\n", "evil\nname");
    EXPECT_EQ(parse.error.find('\n'), std::string::npos) << parse.error;
}

TEST(UserMap, ReadsAFileAndSaysWhyItCannot) {
    const testing::TempDir dir;
    const auto path = dir.path() / "users.map";
    {
        std::ofstream out(path);
        out << "jenkins-bot alice\n";
    }
    const UserMapParse read = read_user_map(path);
    ASSERT_TRUE(read.map) << read.error;
    EXPECT_EQ(read.map->local_user("jenkins-bot"), "alice");

    const UserMapParse missing = read_user_map(dir.path() / "nonexistent");
    EXPECT_FALSE(missing.map);
    EXPECT_EQ(missing.error.rfind((dir.path() / "nonexistent").string() + ": ", 0), 0U)
        << missing.error;
    EXPECT_FALSE(read_user_map(dir.path()).map) << "a directory";
}

} // namespace
} // namespace apitoken::cli
