#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apitoken::text {

// The one rule for free text that apitoken stores and shows to people (token
// names and descriptions; any later free-text field reuses it). Text is printable when
// it is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF),
// in Unicode normalization form C, and none of its code points is
//   - a C0 or C1 control (general category Cc),
//   - a format character (Cf: bidirectional overrides and isolates such as
//     U+202E and U+2066-2069, zero-width characters U+200B-200F, U+061C,
//     U+FEFF, U+00AD ...),
//   - a line or paragraph separator (Zl, Zp: U+2028, U+2029),
//   - unassigned in the Unicode version of libunistring (Cn, which includes
//     the noncharacters such as U+FFFE), or for private use (Co),
//   - invisible though not a format character: Default_Ignorable_Code_Point
//     (U+034F COMBINING GRAPHEME JOINER, the variation selectors U+180B-180F,
//     U+FE00-FE0F and U+E0100-E01EF, U+17B4-17B5, the Hangul fillers U+115F,
//     U+1160, U+3164 and U+FFA0 ...), or U+2800 BRAILLE PATTERN BLANK, which
//     shows as a blank without being a space. (So an emoji's presentation
//     selector is refused too: U+2764 alone is fine, U+2764 U+FE0F is not.)
// The Unicode data comes from libunistring, not from tables of our own.

// "" when `text` is printable, else one sentence about the first problem,
// starting with `what` (e.g. "the token name") and naming the offending code
// point ("the token name contains U+202E RIGHT-TO-LEFT OVERRIDE, which is not
// allowed (invisible, formatting or control character)"). The sentence is
// ASCII and never contains the text itself, which may be hostile.
[[nodiscard]] std::string printable_text_problem(std::string_view text, std::string_view what);

// Whether the code point may appear in printable text (NFC aside): false for
// exactly the code points printable_text_problem refuses, and for anything
// that is not a Unicode scalar value (surrogates, above U+10FFFF). The one
// test for everything that escapes text for people (escaped_for_display,
// escaped_for_json, the daemon's audit log), so that what the rule refuses is
// never shown raw. No allocation; a few table lookups.
[[nodiscard]] bool is_printable_code_point(char32_t c);

// `text` for a person to read: each code point that breaks the rule as
// \u{XXXX} (at least four hex digits: "\u{202E}", "\u{0085}"), each byte
// that is not part of valid UTF-8 as \xNN; everything else unchanged.
// Printable text comes back as it is. The result is valid UTF-8 without any
// control, format or separator character. (Not NFC-normalized: a decomposed
// accent is visible as such, and is left alone.)
[[nodiscard]] std::string escaped_for_display(std::string_view text);

// JSON text (as a JSON library writes it: valid UTF-8) with each code point
// that breaks the rule written as a \uXXXX escape (a surrogate pair above
// U+FFFF): it parses to the very same values, but shown on a terminal it
// cannot reorder or hide anything. The whitespace between JSON tokens (tab,
// line feed, carriage return) is left alone: inside strings a JSON writer
// escapes it already, and every other such code point can only be inside a
// string, never right after an escaping backslash.
[[nodiscard]] std::string escaped_for_json(std::string_view json);

// The number of code points of valid UTF-8 (invalid bytes count one each).
[[nodiscard]] std::size_t code_point_count(std::string_view text);

// Whether the first or the last code point of valid UTF-8 is a space (general category Zs:
// U+0020, U+00A0, U+2000-200A, U+3000 ...), which an aligned table hides.
[[nodiscard]] bool starts_or_ends_with_space(std::string_view text);

// The number of terminal columns `text` takes (East Asian wide characters
// and most emoji count two, combining marks none), for aligning tables of
// escaped_for_display() output. Falls back to the byte count for text that
// is not printable.
[[nodiscard]] std::size_t display_columns(std::string_view text);

} // namespace apitoken::text
