#include "store/name_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace apitoken::store {
namespace {

TEST(TokenNameRules, AcceptsPrintableNamesUpTo64Characters) {
    EXPECT_EQ(token_name_problem("ci-upload"), "");
    EXPECT_EQ(token_name_problem("backup job #3 (nightly)"), "");
    EXPECT_EQ(token_name_problem(std::string(64, 'x')), "");
    EXPECT_EQ(token_name_problem("déploiement"), "") << "UTF-8 letters are printable";
    // 64 two-byte characters are 64 characters, not 128.
    std::string e_acute;
    for (int i = 0; i < 64; ++i) {
        e_acute += "\xc3\xa9";
    }
    EXPECT_EQ(token_name_problem(e_acute), "");
}

TEST(TokenNameRules, RefusesEmptyLongControlAndBadUtf8) {
    EXPECT_NE(token_name_problem(""), "");
    EXPECT_NE(token_name_problem(std::string(65, 'x')), "");
    EXPECT_NE(token_name_problem("tab\there"), "");
    EXPECT_NE(token_name_problem("new\nline"), "");
    EXPECT_NE(token_name_problem(std::string("nul\0byte", 8)), "");
    EXPECT_NE(token_name_problem("del\x7f"), "");
    EXPECT_NE(token_name_problem("c1\xc2\x85"), "") << "U+0085 is a C1 control";
    EXPECT_NE(token_name_problem("bad\xff"), "");
    EXPECT_NE(token_name_problem("\xc0\xaf"), "") << "overlong encoding";
    EXPECT_NE(token_name_problem("\xed\xa0\x80"), "") << "surrogate";
    EXPECT_NE(token_name_problem("cut\xe2\x82"), "") << "truncated sequence";
    EXPECT_NE(token_name_problem(" leading"), "");
    EXPECT_NE(token_name_problem("trailing "), "");
}

// The literals below hold unterminated bidirectional overrides and isolates
// on purpose.
// NOLINTBEGIN(misc-misleading-bidirectional)

// The rule of contract/printable_text.hpp, through the name check the
// daemon and the store use: each invisible, formatting or control character
// of the security report is refused, named, and never echoed.
TEST(TokenNameRules, RefusesInvisibleFormattingAndControlCharactersNamingThem) {
    struct Case {
        std::string raw;
        std::string named;
    };
    const std::vector<Case> cases = {
        {"\u202E", "U+202E RIGHT-TO-LEFT OVERRIDE"},
        {"\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"},
        {"\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE"},
        {"\u2068", "U+2068 FIRST STRONG ISOLATE"},
        {"\u2069", "U+2069 POP DIRECTIONAL ISOLATE"},
        {"\u200B", "U+200B ZERO WIDTH SPACE"},
        {"\u200C", "U+200C ZERO WIDTH NON-JOINER"},
        {"\u200D", "U+200D ZERO WIDTH JOINER"},
        {"\u200E", "U+200E LEFT-TO-RIGHT MARK"},
        {"\u200F", "U+200F RIGHT-TO-LEFT MARK"},
        {"\u061C", "U+061C ARABIC LETTER MARK"},
        {"\uFEFF", "U+FEFF ZERO WIDTH NO-BREAK SPACE"},
        {"\u2028", "U+2028 LINE SEPARATOR"},
        {"\u2029", "U+2029 PARAGRAPH SEPARATOR"},
        {"\u0085", "U+0085"},
        {"\u009B", "U+009B"},
        {"\uE000", "U+E000"},
        {"\u0378", "U+0378"},
    };
    for (const auto& [raw, named] : cases) {
        const std::string message = token_name_problem("invoice" + raw + "txt.exe");
        EXPECT_TRUE(message.starts_with("the token name contains " + named +
                                        ", which is not "
                                        "allowed ("))
            << message;
        EXPECT_EQ(message.find(raw), std::string::npos) << named << ": the raw value is echoed";
        EXPECT_EQ(message.find("invoice"), std::string::npos) << message;
    }
    EXPECT_EQ(token_name_problem("ci\u202Eupload"),
              "the token name contains U+202E RIGHT-TO-LEFT OVERRIDE, which is not allowed "
              "(invisible, formatting or control character)");
}

TEST(TokenNameRules, AcceptsNfcNamesInAnyScriptAndRefusesDecomposedOnes) {
    EXPECT_EQ(token_name_problem("\u00E9"), "");
    EXPECT_EQ(token_name_problem("日本語"), "");
    EXPECT_EQ(token_name_problem("deploy \U0001F680"), "");
    EXPECT_EQ(token_name_problem("\U0001F680"), "");
    const std::string decomposed = token_name_problem("e\u0301");
    EXPECT_TRUE(decomposed.starts_with("the token name is not in Unicode normalization form C"))
        << decomposed;
    EXPECT_NE(decomposed.find("U+0301 COMBINING ACUTE ACCENT"), std::string::npos) << decomposed;
    EXPECT_NE(decomposed.find("U+00E9"), std::string::npos) << decomposed;
}

TEST(TokenNameRules, CountsCharactersNotBytesAndRefusesAnyOuterSpace) {
    std::string rockets;
    for (std::size_t i = 0; i < kMaxTokenNameChars; ++i) {
        rockets += "\U0001F680";
    }
    EXPECT_EQ(token_name_problem(rockets), "") << "64 four-byte characters";
    EXPECT_EQ(token_name_problem(rockets + "x"), "the token name is longer than 64 characters");
    EXPECT_EQ(token_name_problem(std::string(1000, 'x')),
              "the token name is longer than 64 characters");
    EXPECT_EQ(token_name_problem("\u2003em space"), "the token name starts or ends with a space");
    EXPECT_EQ(token_name_problem("ideographic\u3000"),
              "the token name starts or ends with a space");
    EXPECT_EQ(token_name_problem("no-break\u00A0"), "the token name starts or ends with a space");
    EXPECT_EQ(token_name_problem("inner\u00A0space"), "");
}

// NOLINTEND(misc-misleading-bidirectional)

TEST(UserNameRules, AcceptsUsualNamesAndRefusesSeparators) {
    EXPECT_EQ(user_name_problem("alice"), "");
    EXPECT_EQ(user_name_problem("www-data"), "");
    EXPECT_EQ(user_name_problem("DOMAIN\\bob"), "");
    EXPECT_NE(user_name_problem(""), "");
    EXPECT_NE(user_name_problem(std::string(257, 'a')), "");
    EXPECT_NE(user_name_problem("a:b"), "");
    EXPECT_NE(user_name_problem("a/b"), "");
    EXPECT_NE(user_name_problem("a\nb"), "");
}

TEST(ServiceNameRules, AcceptsPamServiceFileNames) {
    EXPECT_EQ(service_name_problem("sshd"), "");
    EXPECT_EQ(service_name_problem("apache2"), "");
    EXPECT_EQ(service_name_problem("systemd-user"), "");
    EXPECT_EQ(service_name_problem("dovecot.imap"), "");
    EXPECT_NE(service_name_problem(""), "");
    EXPECT_NE(service_name_problem(".hidden"), "");
    EXPECT_NE(service_name_problem("../etc"), "");
    EXPECT_NE(service_name_problem("with space"), "");
    EXPECT_NE(service_name_problem(std::string(65, 's')), "");
}

TEST(RhostRules, AcceptsHostsAndAddressesOnly) {
    EXPECT_EQ(rhost_problem(""), "");
    EXPECT_EQ(rhost_problem("192.0.2.1"), "");
    EXPECT_EQ(rhost_problem("2001:db8::1"), "");
    EXPECT_EQ(rhost_problem("host.example.org"), "");
    EXPECT_NE(rhost_problem(std::string(256, 'h')), "");
    EXPECT_NE(rhost_problem("evil\nlog line"), "");
    EXPECT_NE(rhost_problem("sp ace"), "");
}

} // namespace
} // namespace apitoken::store
