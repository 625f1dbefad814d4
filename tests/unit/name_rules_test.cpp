#include "store/name_rules.hpp"

#include <gtest/gtest.h>

#include <string>

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
