// The parsers behind read_jenkins_home, on bytes.
#include "jenkins/hashed_token.hpp"
#include "jenkins/token_stats.hpp"
#include "jenkins/token_text.hpp"
#include "jenkins/user_config.hpp"
#include "jenkins/users_index.hpp"
#include "jenkins/xml_reader.hpp"
#include "tests/jenkins/jenkins_test_support.hpp"

#include <gtest/gtest.h>

namespace apitoken::jenkins {
namespace {

constexpr std::string_view kHeader = "<?xml version='1.1' encoding='UTF-8'?>\n";

std::string entry(std::string_view uuid, std::string_view version, std::string_view hash,
                  std::string_view extra = "") {
    return "<jenkins.security.apitoken.ApiTokenStore_-HashedToken><uuid>" + std::string(uuid) +
           "</uuid><name>n</name>" + std::string(extra) + "<value><version>" +
           std::string(version) + "</version><hash>" + std::string(hash) +
           "</hash></value></jenkins.security.apitoken.ApiTokenStore_-HashedToken>";
}

std::string user_with(const std::string& entries) {
    return std::string(kHeader) +
           "<user><id>u</id><properties><jenkins.security.ApiTokenProperty><tokenStore>"
           "<tokenList>" +
           entries +
           "</tokenList></tokenStore></jenkins.security.ApiTokenProperty></properties></user>";
}

std::string a_hash() {
    std::string hash(64, 'a'); // not {64, 'a'}: that is two characters
    return hash;
}

constexpr std::string_view kUuid1 = "11111111-2222-3333-4444-555555555555";
constexpr std::string_view kUuid2 = "21111111-2222-3333-4444-555555555555";

TEST(JenkinsXml, AcceptsXStreamsXml11Header) {
    const XmlParse parsed = parse_xml("<?xml version='1.1' encoding='UTF-8'?>\n<user/>");
    EXPECT_NE(parsed.doc, nullptr) << parsed.error;
    EXPECT_NE(parse_xml("\xEF\xBB\xBF<user/>").doc, nullptr); // UTF-8 BOM
}

TEST(JenkinsXml, RefusesWhatIsNotPlainUtf8Xml) {
    EXPECT_NE(parse_xml("").error, "");
    EXPECT_NE(parse_xml("<user>").error.find("not well-formed"), std::string::npos);
    EXPECT_NE(parse_xml("<user/><user/>").error, "");
    EXPECT_NE(parse_xml("<?xml version='2.0'?><user/>").error, "");
    EXPECT_NE(parse_xml("<user>\xC3</user>").error.find("not UTF-8 (byte 6)"), std::string::npos);
    EXPECT_NE(parse_xml("<?xml version='1.0' encoding='UTF-16'?><user/>").error, "");
}

TEST(JenkinsXml, FindsInvalidUtf8) {
    EXPECT_EQ(first_invalid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::nullopt);
    EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0U);           // overlong '/'
    EXPECT_EQ(first_invalid_utf8("a\xED\xA0\x80"), 1U);      // surrogate
    EXPECT_EQ(first_invalid_utf8("ab\xF4\x90\x80\x80"), 2U); // above U+10FFFF
    EXPECT_EQ(first_invalid_utf8("\xE2\x82"), 0U);           // cut short
    EXPECT_EQ(first_invalid_utf8("\xFF\xFE<"), 0U);          // a UTF-16 BOM
}

TEST(JenkinsUserConfig, SkipsOnlyTheBadEntries) {
    const std::string bytes = user_with(
        entry(kUuid1, "11", a_hash()) + entry(kUuid2, "12", a_hash()) +           // unknown version
        entry("31111111-2222-3333-4444-555555555555", "11", a_hash().substr(1)) + // 63 hex
        entry("41111111-2222-3333-4444-555555555555", "11", std::string(63, 'a') + "g") +
        entry("not-a-uuid", "11", a_hash()) + entry(kUuid1, "11", a_hash()) + // uuid twice
        entry("51111111-2222-3333-4444-555555555555", "11", a_hash(),
              "<creationDate>yesterday</creationDate>") +
        entry("61111111-2222-3333-4444-555555555555", "11", a_hash(),
              "<expirationDate>2024-02-30</expirationDate>") +
        "<somethingElse/>");
    const UserConfigParse parsed = parse_user_config(bytes);
    ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
    EXPECT_EQ(parsed.config->id, "u");
    ASSERT_EQ(parsed.config->tokens.size(), 1U);
    EXPECT_EQ(parsed.config->tokens[0].uuid, kUuid1);
    ASSERT_EQ(parsed.config->skipped.size(), 8U);
    EXPECT_NE(parsed.config->skipped[0].find("token entry 2 (uuid " + std::string(kUuid2) + ")"),
              std::string::npos);
    EXPECT_NE(parsed.config->skipped[0].find("unknown hash version"), std::string::npos);
    for (const std::string& line : parsed.config->skipped) {
        EXPECT_EQ(line.find(a_hash()), std::string::npos) << "a hash in a message: " << line;
    }
}

TEST(JenkinsUserConfig, AFieldTwiceIsABadEntry) {
    const std::string bytes = user_with(entry(kUuid1, "11", a_hash(), "<name>again</name>"));
    const UserConfigParse parsed = parse_user_config(bytes);
    ASSERT_TRUE(parsed.config.has_value());
    EXPECT_TRUE(parsed.config->tokens.empty());
    EXPECT_EQ(parsed.config->skipped.size(), 1U);
}

TEST(JenkinsUserConfig, RefusesAFileWithoutItsShape) {
    EXPECT_FALSE(parse_user_config(std::string(kHeader) + "<project/>").config.has_value());
    EXPECT_FALSE(parse_user_config(std::string(kHeader) + "<user><id></id></user>").config);
    EXPECT_FALSE(parse_user_config(std::string(kHeader) + "<user><id>a</id><id>b</id></user>")
                     .config.has_value());
    EXPECT_FALSE(
        parse_user_config(std::string(kHeader) + "<user><id>a<b/></id></user>").config.has_value());
    const UserConfigParse no_tokens = parse_user_config(std::string(kHeader) + "<user/>");
    ASSERT_TRUE(no_tokens.config.has_value());
    EXPECT_EQ(no_tokens.config->id, std::nullopt);
}

TEST(JenkinsUserConfig, ReadsCharacterReferencesAndCdata) {
    const UserConfigParse parsed = parse_user_config(
        std::string(kHeader) + "<user><id>a&amp;b&#x41;<![CDATA[<c>]]></id></user>");
    ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
    EXPECT_EQ(parsed.config->id, "a&bA<c>");
}

TEST(JenkinsHashedToken, ReadsHexOfEitherCase) {
    const auto lower =
        parse_sha256_hex("ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f");
    const auto upper =
        parse_sha256_hex("FF550856862DBEE0EB2534D03D4CD9B7A71B2CA35A53E1C1876B4ECCFC1E627F");
    ASSERT_TRUE(lower.has_value());
    EXPECT_EQ(lower, upper);
    EXPECT_EQ((*lower)[0], 0xFF);
    EXPECT_EQ((*lower)[31], 0x7F);
    EXPECT_FALSE(parse_sha256_hex("").has_value());
    EXPECT_FALSE(parse_sha256_hex(std::string(64, ' ')).has_value());
    EXPECT_TRUE(is_uuid("23A7C9C5-0193-493f-a74b-db4d52c32346"));
    EXPECT_FALSE(is_uuid("23a7c9c5-0193-493f-a74b-db4d52c3234"));
    EXPECT_FALSE(is_uuid("23a7c9c5x0193-493f-a74b-db4d52c32346"));
}

std::string stats_entry(std::string_view uuid, std::string_view date, std::string_view counter) {
    std::string text = "<jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats><tokenUuid>" +
                       std::string(uuid) + "</tokenUuid>";
    if (!date.empty()) {
        text += "<lastUseDate>" + std::string(date) + "</lastUseDate>";
    }
    return text + "<useCounter>" + std::string(counter) +
           "</useCounter></jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats>";
}

std::string stats_with(const std::string& entries) {
    return std::string(kHeader) + "<jenkins.security.apitoken.ApiTokenStats><tokenStats>" +
           entries + "</tokenStats></jenkins.security.apitoken.ApiTokenStats>";
}

TEST(JenkinsTokenStats, KeepsTheLastUsedOfDuplicatesAsJenkinsDoes) {
    const TokenStatsParse parsed = parse_token_stats(
        stats_with(stats_entry("a", "2020-01-01 00:00:00.0 UTC", "9") +
                   stats_entry("a", "2021-01-01 00:00:00.0 UTC", "2") + stats_entry("a", "", "50") +
                   stats_entry("b", "", "-4") + stats_entry("c", "2021-01-01 00:00:00.0 UTC", "2") +
                   stats_entry("c", "2021-01-01 00:00:00.0 UTC", "5")));
    ASSERT_TRUE(parsed.uses.has_value()) << parsed.error;
    EXPECT_EQ(parsed.uses->at("a").use_count, 2U);
    EXPECT_EQ(parsed.uses->at("a").last_used, 1609459200);
    EXPECT_EQ(parsed.uses->at("b").use_count, 0U); // negative counts as 0
    EXPECT_EQ(parsed.uses->at("c").use_count, 5U);
}

TEST(JenkinsTokenStats, RefusesTheWholeFileForOneBadEntry) {
    for (const std::string& bad : {stats_entry("a", "", "2147483648"), stats_entry("a", "", "x"),
                                   stats_entry("a", "2021-01-01", "1"), std::string("<other/>")}) {
        EXPECT_FALSE(parse_token_stats(stats_with(stats_entry("ok", "", "1") + bad)).uses) << bad;
    }
    EXPECT_FALSE(parse_token_stats(std::string(kHeader) + "<user/>").uses.has_value());
}

TEST(JenkinsUsersIndex, MapsDirectoriesToIdKeys) {
    const UsersIndexParse parsed = parse_users_index(
        std::string(kHeader) + "<hudson.model.UserIdMapper><version>1</version>"
                               "<idToDirectoryNameMap class=\"concurrent-hash-map\">"
                               "<entry><string>erin</string><string>erin_1</string></entry>"
                               "<entry><string>frank</string><string>frank_2</string></entry>"
                               "</idToDirectoryNameMap></hudson.model.UserIdMapper>");
    ASSERT_TRUE(parsed.ids.has_value()) << parsed.error;
    EXPECT_EQ(parsed.ids->at("erin_1"), "erin");
    EXPECT_EQ(parsed.ids->at("frank_2"), "frank");
    EXPECT_FALSE(parse_users_index(std::string(kHeader) +
                                   "<hudson.model.UserIdMapper><idToDirectoryNameMap>"
                                   "<entry><string>a</string><string>d</string></entry>"
                                   "<entry><string>b</string><string>d</string></entry>"
                                   "</idToDirectoryNameMap></hudson.model.UserIdMapper>")
                     .ids.has_value());
}

} // namespace
} // namespace apitoken::jenkins
