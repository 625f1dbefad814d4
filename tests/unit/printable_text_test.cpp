#include "contract/printable_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apitoken::text {
namespace {

// These tests are about unterminated bidirectional overrides and isolates:
// their literals hold such characters on purpose.
// NOLINTBEGIN(misc-misleading-bidirectional)

// The UTF-8 encoding of one code point (test input, written independently of
// the library's decoder).
std::string utf8(char32_t c) {
    const auto v = static_cast<std::uint32_t>(c);
    std::string out;
    const auto byte = [&out](std::uint32_t b) { out += static_cast<char>(b); };
    if (v < 0x80) {
        byte(v);
    } else if (v < 0x800) {
        byte(0xC0U | (v >> 6U));
        byte(0x80U | (v & 0x3FU));
    } else if (v < 0x10000) {
        byte(0xE0U | (v >> 12U));
        byte(0x80U | ((v >> 6U) & 0x3FU));
        byte(0x80U | (v & 0x3FU));
    } else {
        byte(0xF0U | (v >> 18U));
        byte(0x80U | ((v >> 12U) & 0x3FU));
        byte(0x80U | ((v >> 6U) & 0x3FU));
        byte(0x80U | (v & 0x3FU));
    }
    return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

std::string problem(std::string_view text) {
    return printable_text_problem(text, "the name");
}

struct Refused {
    char32_t code_point;
    std::string_view named; // "U+202E RIGHT-TO-LEFT OVERRIDE"
};

// Every code point of the security report, C1 controls, private use and an
// unassigned one: refused, the message naming it, never containing it.
std::vector<Refused> refused_cases() {
    return {
        {0x202E, "U+202E RIGHT-TO-LEFT OVERRIDE"},
        {0x202A, "U+202A LEFT-TO-RIGHT EMBEDDING"},
        {0x202D, "U+202D LEFT-TO-RIGHT OVERRIDE"},
        {0x2066, "U+2066 LEFT-TO-RIGHT ISOLATE"},
        {0x2067, "U+2067 RIGHT-TO-LEFT ISOLATE"},
        {0x2068, "U+2068 FIRST STRONG ISOLATE"},
        {0x2069, "U+2069 POP DIRECTIONAL ISOLATE"},
        {0x200B, "U+200B ZERO WIDTH SPACE"},
        {0x200C, "U+200C ZERO WIDTH NON-JOINER"},
        {0x200D, "U+200D ZERO WIDTH JOINER"},
        {0x200E, "U+200E LEFT-TO-RIGHT MARK"},
        {0x200F, "U+200F RIGHT-TO-LEFT MARK"},
        {0x061C, "U+061C ARABIC LETTER MARK"},
        {0xFEFF, "U+FEFF ZERO WIDTH NO-BREAK SPACE"},
        {0x2028, "U+2028 LINE SEPARATOR"},
        {0x2029, "U+2029 PARAGRAPH SEPARATOR"},
        {0x00AD, "U+00AD SOFT HYPHEN"},
        {0x0000, "U+0000"},
        {0x0009, "U+0009"},
        {0x000A, "U+000A"},
        {0x001B, "U+001B"},
        {0x007F, "U+007F"},
        {0x0085, "U+0085"},
        {0x009B, "U+009B"},
        {0xE000, "U+E000"},
        {0xF8FF, "U+F8FF"},
        {0xF0000, "U+F0000"},
        {0x0378, "U+0378"},
        {0xFFFE, "U+FFFE"},
        {0xFDD0, "U+FDD0"},
        {0x10FFFF, "U+10FFFF"},
        // Invisible or blank, though neither control nor format character
        // (the second security review).
        {0x034F, "U+034F COMBINING GRAPHEME JOINER"},
        {0xFE0F, "U+FE0F VARIATION SELECTOR-16"},
        {0xE0100, "U+E0100 VARIATION SELECTOR-17"},
        {0x17B5, "U+17B5 KHMER VOWEL INHERENT AA"},
        {0x180B, "U+180B MONGOLIAN FREE VARIATION SELECTOR ONE"},
        {0x3164, "U+3164 HANGUL FILLER"},
        {0x115F, "U+115F HANGUL CHOSEONG FILLER"},
        {0x1160, "U+1160 HANGUL JUNGSEONG FILLER"},
        {0xFFA0, "U+FFA0 HALFWIDTH HANGUL FILLER"},
        {0x2800, "U+2800 BRAILLE PATTERN BLANK"},
    };
}

TEST(PrintableText, RefusesEachListedCodePointNamingItWithoutEchoingIt) {
    for (const auto& [code_point, named] : refused_cases()) {
        const std::string raw = utf8(code_point);
        for (const std::string& text : {raw, "ci" + raw + "upload", "upload" + raw}) {
            const std::string message = problem(text);
            SCOPED_TRACE(named);
            EXPECT_TRUE(message.starts_with("the name contains ")) << message;
            EXPECT_TRUE(contains(message, std::string(named) + ",")) << message;
            EXPECT_FALSE(contains(message, raw)) << "the message echoes the raw code point";
            EXPECT_TRUE(std::all_of(message.begin(), message.end(), [](char c) {
                return c >= 0x20 && c < 0x7F;
            })) << "the message is printable ASCII";
            EXPECT_FALSE(is_printable_code_point(code_point));
        }
    }
}

TEST(PrintableText, SaysWhyInTheReportedWords) {
    EXPECT_EQ(problem("ab\u202Ecd"),
              "the name contains U+202E RIGHT-TO-LEFT OVERRIDE, which is not allowed (invisible, "
              "formatting or control character)");
    EXPECT_EQ(problem("c1\u0085"), "the name contains U+0085, which is not allowed (invisible, "
                                   "formatting or control character)");
    EXPECT_EQ(problem("\uE000"),
              "the name contains U+E000, which is not allowed (private-use character)");
    EXPECT_EQ(problem("\u0378"), "the name contains U+0378, which is not allowed (unassigned code "
                                 "point or noncharacter)");
    EXPECT_EQ(printable_text_problem("\u2066", "the description"),
              "the description contains U+2066 LEFT-TO-RIGHT ISOLATE, which is not allowed "
              "(invisible, formatting or control character)");
}

TEST(PrintableText, RefusesInvisibleAndBlankCharactersThatAreNotFormatCharacters) {
    EXPECT_EQ(problem("deploy\u3164"), "the name contains U+3164 HANGUL FILLER, which is not "
                                       "allowed (invisible or blank character)");
    EXPECT_EQ(problem("\u2800"), "the name contains U+2800 BRAILLE PATTERN BLANK, which is not "
                                 "allowed (invisible or blank character)");
    EXPECT_EQ(problem("\u2764\uFE0F"), "the name contains U+FE0F VARIATION SELECTOR-16, which is "
                                       "not allowed (invisible or blank character)");
    EXPECT_EQ(problem("\u2764"), "") << "the emoji itself is visible";
    EXPECT_EQ(problem("\u2801"), "") << "a braille pattern with a dot is visible";
    EXPECT_EQ(problem("\u1100 \u1161"), "") << "the jamo that are not fillers are visible";
    EXPECT_TRUE(contains(problem("\U000E0FFF"), "unassigned"))
        << "an unassigned default-ignorable code point is reported as unassigned";
    // Every Default_Ignorable_Code_Point (DerivedCoreProperties.txt),
    // whatever its category, and the blank braille pattern.
    const std::vector<std::pair<char32_t, char32_t>> ignorable{
        {0x00AD, 0x00AD},   {0x034F, 0x034F}, {0x061C, 0x061C},   {0x115F, 0x1160},
        {0x17B4, 0x17B5},   {0x180B, 0x180F}, {0x200B, 0x200F},   {0x202A, 0x202E},
        {0x2060, 0x206F},   {0x3164, 0x3164}, {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},
        {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
        {0xE0000, 0xE0FFF}, {0x2800, 0x2800},
    };
    for (const auto& [first, last] : ignorable) {
        for (char32_t c = first; c <= last; ++c) {
            EXPECT_FALSE(is_printable_code_point(c)) << static_cast<std::uint32_t>(c);
            EXPECT_NE(problem(utf8(c)), "") << static_cast<std::uint32_t>(c);
        }
    }
}

TEST(PrintableText, IsPrintableCodePointAgreesWithTheRuleForEveryCodePoint) {
    // The audit log escapes exactly what is_printable_code_point refuses:
    // it must refuse every code point the rule refuses, and nothing else.
    for (char32_t c = 0; c <= 0x10FFFF; ++c) {
        if (c >= 0xD800 && c <= 0xDFFF) {
            EXPECT_FALSE(is_printable_code_point(c));
            continue;
        }
        // A lone code point may fail NFC alone (U+212B ANGSTROM SIGN): that
        // is about sequences, not about the code point.
        const std::string message = printable_text_problem(utf8(c), "x");
        const bool accepted = message.empty() || message.starts_with("x is not in Unicode normal");
        if (accepted != is_printable_code_point(c)) {
            ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(c);
        }
    }
    EXPECT_FALSE(is_printable_code_point(0x110000));
    EXPECT_FALSE(is_printable_code_point(0xFFFFFFFF));
}

TEST(PrintableText, NamesTheFirstOffendingCodePoint) {
    EXPECT_TRUE(contains(problem("a\u200Bb\u202Ec"), "U+200B")) << problem("a\u200Bb\u202Ec");
    EXPECT_FALSE(contains(problem("a\u200Bb\u202Ec"), "U+202E"));
}

TEST(PrintableText, AcceptsVisibleTextOfAnyScript) {
    for (const std::string_view text :
         {"ci-upload", "backup job #3 (nightly)", "\u00E9", "d\u00E9ploiement", "日本語",
          "\U0001F680", "deploy \U0001F680 prod", "Ελληνικά", "עברית", "العربية", "हिन्दी",
          "한국어"}) {
        EXPECT_EQ(problem(text), "") << text;
    }
    EXPECT_EQ(problem(""), "") << "emptiness is the caller's rule";
    EXPECT_EQ(problem("x\u0301"), "") << "no precomposed x with acute: x + U+0301 is NFC";
    EXPECT_EQ(problem("\u00A0"), "") << "a no-break space is visible as a space (Zs)";
    EXPECT_TRUE(is_printable_code_point(0x1F680));
    EXPECT_TRUE(is_printable_code_point(U'é'));
}

TEST(PrintableText, RefusesTextThatIsNotNfcNamingTheDecomposedCharacters) {
    EXPECT_EQ(problem("\u00E9"), "");
    const std::string message = problem("caf" + utf8(U'e') + utf8(0x0301));
    EXPECT_EQ(message, "the name is not in Unicode normalization form C (NFC): U+0065 LATIN SMALL "
                       "LETTER E, U+0301 COMBINING ACUTE ACCENT must be written as U+00E9 LATIN "
                       "SMALL LETTER E WITH ACUTE");
    EXPECT_FALSE(contains(message, "caf"));
    EXPECT_NE(problem("\u212B"), "") << "ANGSTROM SIGN is U+00C5 in NFC";
    EXPECT_TRUE(contains(problem("\u212B"), "U+00C5")) << problem("\u212B");
    EXPECT_NE(problem("\uAC00\u11A8"), "") << "a Hangul syllable and a trailing jamo compose";
}

TEST(PrintableText, RefusesInvalidUtf8SayingWhereWithoutEchoingIt) {
    EXPECT_EQ(problem("bad\xff"), "the name is not valid UTF-8 (byte 0xFF at offset 3)");
    for (const std::string_view bad : {
             std::string_view("\xc0\xaf"),         // overlong '/'
             std::string_view("\xe0\x80\xaf"),     // overlong, 3 bytes
             std::string_view("\xed\xa0\x80"),     // U+D800, a surrogate
             std::string_view("\xed\xbf\xbf"),     // U+DFFF
             std::string_view("\xf4\x90\x80\x80"), // above U+10FFFF
             std::string_view("cut\xe2\x82"),      // truncated
             std::string_view("\x80"),             // lone continuation byte
             std::string_view("\xfe"),
         }) {
        const std::string message = problem(bad);
        EXPECT_TRUE(message.starts_with("the name is not valid UTF-8")) << message;
        EXPECT_FALSE(contains(message, bad)) << message;
    }
}

TEST(PrintableText, EscapesForDisplayWhatBreaksTheRule) {
    EXPECT_EQ(escaped_for_display("ci-upload"), "ci-upload");
    EXPECT_EQ(escaped_for_display("日本語 \U0001F680 d\u00E9j\u00E0"),
              "日本語 \U0001F680 d\u00E9j\u00E0");
    EXPECT_EQ(escaped_for_display("invoice\u202Efdp.exe"), "invoice\\u{202E}fdp.exe");
    EXPECT_EQ(escaped_for_display("a\u2066b\u2069"), "a\\u{2066}b\\u{2069}");
    EXPECT_EQ(escaped_for_display("tab\there\n"), "tab\\u{0009}here\\u{000A}");
    EXPECT_EQ(escaped_for_display("\u0085\u009B"), "\\u{0085}\\u{009B}");
    EXPECT_EQ(escaped_for_display("\uFEFF\u200B"), "\\u{FEFF}\\u{200B}");
    EXPECT_EQ(escaped_for_display("\u2028\u2029"), "\\u{2028}\\u{2029}");
    EXPECT_EQ(escaped_for_display("\uE000\U000F0000"), "\\u{E000}\\u{F0000}");
    EXPECT_EQ(escaped_for_display("bad\xff\xc0\xaf"), "bad\\xFF\\xC0\\xAF");
    EXPECT_EQ(escaped_for_display("\xed\xa0\x80"), "\\xED\\xA0\\x80");
    EXPECT_EQ(escaped_for_display(std::string("nul\0", 4)), "nul\\u{0000}");
    for (const auto& [code_point, named] : refused_cases()) {
        const std::string shown = escaped_for_display("x" + utf8(code_point) + "y");
        EXPECT_EQ(problem(shown), "") << "escaped text is printable: " << named;
    }
}

TEST(PrintableText, EscapesForJsonSoThatItParsesToTheSameString) {
    EXPECT_EQ(escaped_for_json(R"({"name":"日本語"})"), R"({"name":"日本語"})");
    EXPECT_EQ(escaped_for_json("{\"name\":\"a\u202Eb\"}"), R"({"name":"a\u202Eb"})");
    EXPECT_EQ(escaped_for_json("\"\U000F0000\""), R"("\uDB80\uDC00")");
    EXPECT_EQ(escaped_for_json("\"\u2028\u0085\x7f\""), R"("\u2028\u0085\u007F")");
    EXPECT_EQ(escaped_for_json("{\n\t\"a\": \"\u202E\"\r\n}"), "{\n\t\"a\": \"\\u202E\"\r\n}")
        << "whitespace between tokens stays";
}

TEST(PrintableText, CountsCodePointsAndOuterSpacesAndColumns) {
    EXPECT_EQ(code_point_count(""), 0U);
    EXPECT_EQ(code_point_count("d\u00E9j\u00E0"), 4U);
    EXPECT_EQ(code_point_count("\U0001F680"), 1U);
    EXPECT_TRUE(starts_or_ends_with_space(" a"));
    EXPECT_TRUE(starts_or_ends_with_space("a\u3000"));
    EXPECT_TRUE(starts_or_ends_with_space("\u2003a")) << "EM SPACE";
    EXPECT_TRUE(starts_or_ends_with_space("a\u00A0"));
    EXPECT_FALSE(starts_or_ends_with_space("a b"));
    EXPECT_FALSE(starts_or_ends_with_space(""));
    EXPECT_EQ(display_columns("abc"), 3U);
    EXPECT_EQ(display_columns("d\u00E9j\u00E0"), 4U);
    EXPECT_EQ(display_columns("日本語"), 6U);
    EXPECT_EQ(display_columns("e\u0301"), 1U);
}

// NOLINTEND(misc-misleading-bidirectional)

} // namespace
} // namespace apitoken::text
