// The log cannot be forged or turned against its reader: every value is
// quoted and escaped (log_value), free text is escaped, and refusals on the
// plain sink are collapsed and capped.
#include "daemon/audit_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace apitoken::daemon {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

// The UTF-8 of one code point (bidi controls cannot be written in a literal
// without clang-tidy's misc-misleading-bidirectional objecting).
std::string utf8(char32_t c) {
    std::string out;
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0U | (c >> 6U));
        out += static_cast<char>(0x80U | (c & 0x3FU));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0U | (c >> 12U));
        out += static_cast<char>(0x80U | ((c >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (c & 0x3FU));
    } else {
        out += static_cast<char>(0xF0U | (c >> 18U));
        out += static_cast<char>(0x80U | ((c >> 12U) & 0x3FU));
        out += static_cast<char>(0x80U | ((c >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (c & 0x3FU));
    }
    return out;
}

TEST(LogValueTest, QuotesPlainValues) {
    EXPECT_EQ(log_value("alice"), "\"alice\"");
    EXPECT_EQ(log_value(""), "\"\"");
    EXPECT_EQ(log_value("x user=root result=success"), "\"x user=root result=success\"");
    EXPECT_EQ(log_value("jürgen 名前"), "\"jürgen 名前\"") << "printable UTF-8 stays";
}

TEST(LogValueTest, EscapesQuoteAndBackslash) {
    EXPECT_EQ(log_value(R"(a"b)"), R"("a\"b")");
    EXPECT_EQ(log_value(R"(a\b)"), R"("a\\b")");
    EXPECT_EQ(log_value(R"(x" result="success)"), R"("x\" result=\"success")")
        << "a quote cannot close the value early";
    EXPECT_EQ(log_value(R"(\")"), R"("\\\"")");
}

TEST(LogValueTest, EscapesC0ControlsAndDel) {
    EXPECT_EQ(log_value("a\nb"), R"("a\x0Ab")");
    EXPECT_EQ(log_value("a\rb\tc"), R"("a\x0Db\x09c")");
    EXPECT_EQ(log_value("\x1b[2J"), R"("\x1B[2J")");
    EXPECT_EQ(log_value("\x7f"), R"("\x7F")");
    EXPECT_EQ(log_value("a\0b"s), R"("a\x00b")");
}

TEST(LogValueTest, EscapesC1Controls) {
    EXPECT_EQ(log_value("a\xc2\x9b"
                        "31mb"),
              R"("a\u{009B}31mb")")
        << "U+009B is a terminal's CSI";
    EXPECT_EQ(log_value("\xc2\x80\xc2\x85\xc2\x9f"), R"("\u{0080}\u{0085}\u{009F}")");
    EXPECT_EQ(log_value("\xc2\xa0"), "\"\xc2\xa0\"") << "U+00A0 is printable";
}

TEST(LogValueTest, EscapesInvisibleFormatCharacters) {
    const std::vector<std::pair<char32_t, std::string>> cases{
        {0x061C, "\\u{061C}"}, {0x200B, "\\u{200B}"}, {0x200F, "\\u{200F}"}, {0x2028, "\\u{2028}"},
        {0x2029, "\\u{2029}"}, {0x202A, "\\u{202A}"}, {0x202E, "\\u{202E}"}, {0x2066, "\\u{2066}"},
        {0x2069, "\\u{2069}"}, {0xFEFF, "\\u{FEFF}"},
    };
    for (const auto& [c, escaped] : cases) {
        EXPECT_EQ(log_value("a" + utf8(c) + "b"), "\"a" + escaped + "b\"") << escaped;
    }
    EXPECT_EQ(log_value("\xe2\x80\x90"), "\"\xe2\x80\x90\"") << "U+2010 (a hyphen) stays";
    // The same rule as stored text (is_printable_code_point): every format
    // character, not only a list of the known dangerous ones.
    EXPECT_EQ(log_value("\xe2\x81\xaa"), R"("\u{206A}")") << "U+206A (Cf) is escaped too";
    EXPECT_EQ(log_value("\xcd\x8f"), R"("\u{034F}")") << "U+034F (default ignorable)";
}

TEST(LogValueTest, EscapesEachByteOfInvalidUtf8) {
    EXPECT_EQ(log_value("a\xff"
                        "b"),
              R"("a\xFFb")");
    EXPECT_EQ(log_value("\xc2"), R"("\xC2")") << "truncated";
    EXPECT_EQ(log_value("\xc2"
                        "A"),
              R"("\xC2A")")
        << "a lead byte without its continuation";
    EXPECT_EQ(log_value("\xc1\x9b"), R"("\xC1\x9B")") << "an overlong ESC";
    EXPECT_EQ(log_value("\xe0\x82\x9b"), R"("\xE0\x82\x9B")") << "an overlong CSI";
    EXPECT_EQ(log_value("\xed\xa0\x80"), R"("\xED\xA0\x80")") << "a surrogate";
    EXPECT_EQ(log_value("\xf4\x90\x80\x80"), R"("\xF4\x90\x80\x80")") << "above U+10FFFF";
    EXPECT_EQ(log_value("\x9b"), R"("\x9B")") << "a lone continuation byte";
    EXPECT_EQ(log_value("\xf0\x9f\x94\x91"), "\"\xf0\x9f\x94\x91\"") << "an emoji stays";
}

// The output of log_value is one line of printable characters, whatever
// the input bytes were.
TEST(LogValueTest, AnyBytesGiveOnePrintableLine) {
    std::string every_byte;
    for (int b = 0; b < 256; ++b) {
        every_byte += static_cast<char>(b);
    }
    const std::string out = log_value(every_byte + "\xc2\x9b" + utf8(0x202E));
    for (const char c : out) {
        const auto byte = static_cast<unsigned char>(c);
        EXPECT_TRUE(byte >= 0x20 && byte < 0x7F) << "byte " << static_cast<int>(byte);
    }
}

// A fixture with a plain sink (a temporary file) and a clock the test moves.
class AuditLogTest : public ::testing::Test {
public:
    AuditLogTest() = default;
    AuditLogTest(const AuditLogTest&) = delete;
    AuditLogTest& operator=(const AuditLogTest&) = delete;
    AuditLogTest(AuditLogTest&&) = delete;
    AuditLogTest& operator=(AuditLogTest&&) = delete;
    ~AuditLogTest() override { static_cast<void>(std::fclose(file)); }

protected:
    [[nodiscard]] std::string text() const {
        static_cast<void>(std::fflush(file));
        std::rewind(file);
        std::string out;
        for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
            out += static_cast<char>(c);
        }
        static_cast<void>(std::fseek(file, 0, SEEK_END)); // before the log writes again
        return out;
    }
    [[nodiscard]] std::vector<std::string> lines() const {
        std::vector<std::string> out;
        const std::string all = text();
        for (std::size_t start = 0; start < all.size();) {
            const std::size_t end = all.find('\n', start);
            out.push_back(all.substr(start, end - start));
            start = end + 1;
        }
        return out;
    }
    void refuse(std::string_view user) const {
        log.record(AuditEvent::AuthFailed,
                   {.user = user, .caller_uid = 0, .result = "failure", .reason = "wrong secret"});
    }

    std::FILE* file = std::tmpfile();
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 1h;
    AuditLog log{true, file, [this] { return now; }};
};

TEST_F(AuditLogTest, RecordQuotesEveryValue) {
    log.record(AuditEvent::AuthSucceeded, {.user = "alice",
                                           .token_id = "0123456789ab",
                                           .service = "sshd",
                                           .rhost = "192.0.2.1",
                                           .caller_uid = 0,
                                           .result = "success"});
    EXPECT_EQ(text(), "apitokend: token authentication succeeded user=\"alice\" "
                      "token_id=\"0123456789ab\" service=\"sshd\" rhost=\"192.0.2.1\" "
                      "caller_uid=\"0\" result=\"success\"\n");
}

TEST_F(AuditLogTest, AHostileUserCannotForgeFields) {
    log.record(AuditEvent::AuthFailed, {.user = "x user=root caller_uid=0 result=success",
                                        .service = "sshd",
                                        .caller_uid = 33,
                                        .result = "failure",
                                        .reason = "user does not exist"});
    EXPECT_EQ(text(), "apitokend: token authentication failed "
                      "user=\"x user=root caller_uid=0 result=success\" service=\"sshd\" "
                      "caller_uid=\"33\" result=\"failure\" reason=\"user does not exist\"\n");
}

TEST_F(AuditLogTest, AHostileUserCannotCloseTheQuotesOrBreakTheLine) {
    log.record(
        AuditEvent::AuthFailed,
        {.user = "x\" result=\"success\napitokend: token authentication succeeded user=\"root",
         .result = "failure"});
    const auto all = lines();
    ASSERT_EQ(all.size(), 1U) << text();
    EXPECT_EQ(all[0], R"(apitokend: token authentication failed user="x\" result=\"success\x0A)"
                      R"(apitokend: token authentication succeeded user=\"root" result="failure")");
}

TEST_F(AuditLogTest, TerminalControlsInAnyFieldAreEscaped) {
    // Services and rhosts are validated on the way in; the log does not
    // count on it.
    const std::string user = "\xc2\x9b"
                             "31mroot" +
                             utf8(0x202E);
    log.record(AuditEvent::AccessDenied, {.user = user,
                                          .service = "ss\x1b]0;pwned\x07hd",
                                          .rhost = "h\xc2\x9b"
                                                   "2J",
                                          .caller_uid = 1000,
                                          .result = "refused",
                                          .reason = "bad\xff"});
    const std::string out = text();
    EXPECT_EQ(out, R"(apitokend: call refused: access denied user="\u{009B}31mroot\u{202E}" )"
                   R"(service="ss\x1B]0;pwned\x07hd" rhost="h\u{009B}2J" caller_uid="1000" )"
                   R"(result="refused" reason="bad\xFF")"
                   "\n");
    EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos);
}

TEST_F(AuditLogTest, FreeTextIsEscapedToo) {
    log.info("user x\xc2\x9b"
             "y\nz\x1b " +
             utf8(0x202E) + "!");
    log.warning(R"(a "quoted" \ value stays)");
    log.error("user " + log_value("a \"b\"\n") + " here");
    log.debug("bad \xff byte");
    EXPECT_EQ(text(), "apitokend: user x\\u{009B}y\\x0Az\\x1B \\u{202E}!\n"
                      "apitokend: a \"quoted\" \\ value stays\n"
                      "apitokend: user \"a \\\"b\\\"\\x0A\" here\n"
                      "apitokend: bad \\xFF byte\n");
}

TEST_F(AuditLogTest, DebugLinesOnlyWhenEnabled) {
    AuditLog quiet{false, file};
    quiet.debug("not shown");
    quiet.info("shown");
    EXPECT_EQ(text(), "apitokend: shown\n");
}

TEST_F(AuditLogTest, IdenticalRefusalsAreCollapsed) {
    for (int i = 0; i < 5; ++i) {
        refuse("alice");
    }
    refuse("bob");
    refuse("bob");
    log.record(AuditEvent::AuthSucceeded, {.user = "bob", .result = "success"});
    const auto all = lines();
    ASSERT_EQ(all.size(), 5U) << text();
    EXPECT_NE(all[0].find("user=\"alice\""), std::string::npos);
    EXPECT_EQ(all[1], "apitokend: last message repeated 4 times");
    EXPECT_NE(all[2].find("user=\"bob\""), std::string::npos);
    EXPECT_EQ(all[3], "apitokend: last message repeated 1 time");
    EXPECT_NE(all[4].find("succeeded"), std::string::npos);
}

TEST_F(AuditLogTest, OnlyRefusalsAreCollapsed) {
    for (int i = 0; i < 3; ++i) {
        log.record(AuditEvent::AuthSucceeded, {.user = "alice", .result = "success"});
        log.info("same text");
    }
    EXPECT_EQ(lines().size(), 6U) << text();
}

TEST_F(AuditLogTest, RepeatsAreCountedAgainAfterSomeSeconds) {
    refuse("alice");
    refuse("alice");
    refuse("alice");
    now += AuditLog::kRepeatFlush;
    refuse("alice"); // the count so far is written now, not when another line comes
    EXPECT_EQ(lines().back(), "apitokend: last message repeated 3 times") << text();
    refuse("alice");
    now += AuditLog::kRepeatFlush - 1s;
    refuse("alice");
    EXPECT_EQ(lines().size(), 2U) << "not yet: " << text();
    log.record(AuditEvent::DaemonStopping, {});
    const auto all = lines();
    ASSERT_EQ(all.size(), 4U) << text();
    EXPECT_EQ(all[2], "apitokend: last message repeated 2 times");
    EXPECT_EQ(all[3], "apitokend: apitokend stopping");
}

TEST_F(AuditLogTest, RefusalsAreCappedPerWindowAndTheRestSummarized) {
    const std::size_t burst = AuditLog::kRefusalBurst;
    for (std::size_t i = 0; i < burst + 50; ++i) {
        refuse("user" + std::to_string(i));
    }
    EXPECT_EQ(lines().size(), burst) << "the rest is held back";
    log.record(AuditEvent::TokenCreated, {.user = "alice"});
    EXPECT_EQ(lines().size(), burst + 1) << "other events are never held back";
    EXPECT_NE(lines().back().find("token created"), std::string::npos)
        << "no summary before the window is over";

    now += AuditLog::kRefusalWindow;
    refuse("late");
    const auto all = lines();
    ASSERT_EQ(all.size(), burst + 3) << text();
    EXPECT_EQ(all[burst + 1], "apitokend: 50 more refusals were not logged (at most 100 refusals "
                              "are logged in 10 s)");
    EXPECT_NE(all[burst + 2].find("user=\"late\""), std::string::npos);

    // A new window: its own burst.
    for (std::size_t i = 1; i < burst; ++i) {
        refuse("again" + std::to_string(i));
    }
    EXPECT_EQ(lines().size(), 2 * burst + 2);
    refuse("one too many");
    EXPECT_EQ(lines().size(), 2 * burst + 2);
}

TEST_F(AuditLogTest, TheLastLineSummarizesWhatWasHeldBack) {
    for (std::size_t i = 0; i < AuditLog::kRefusalBurst + 1; ++i) {
        refuse("user" + std::to_string(i));
    }
    refuse("user0");
    refuse("user0");
    log.record(AuditEvent::DaemonStopping, {});
    const auto all = lines();
    ASSERT_EQ(all.size(), AuditLog::kRefusalBurst + 2) << text();
    EXPECT_EQ(all[AuditLog::kRefusalBurst],
              "apitokend: 3 more refusals were not logged (at most 100 refusals are logged in "
              "10 s)");
    EXPECT_EQ(all.back(), "apitokend: apitokend stopping");
}

TEST_F(AuditLogTest, ADroppedRefusalIsNotARepeatOfTheLastOneWritten) {
    for (std::size_t i = 0; i < AuditLog::kRefusalBurst; ++i) {
        refuse("user" + std::to_string(i));
    }
    refuse("other"); // dropped
    refuse("user99");
    log.record(AuditEvent::DaemonStopping, {});
    const auto all = lines();
    ASSERT_EQ(all.size(), AuditLog::kRefusalBurst + 2) << text();
    EXPECT_NE(all[AuditLog::kRefusalBurst].find("2 more refusals"), std::string::npos);
}

} // namespace
} // namespace apitoken::daemon
