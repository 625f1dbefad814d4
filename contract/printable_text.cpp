#include "contract/printable_text.hpp"

#include <unictype.h>
#include <uniname.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwidth.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <vector>

namespace apitoken::text {
namespace {

const std::uint8_t* bytes_of(std::string_view text) {
    return reinterpret_cast<const std::uint8_t*>(text.data());
}

// One code point decoded strictly at the front of `text`, and its length in
// bytes; nullopt when the bytes there are not valid UTF-8.
struct Decoded {
    char32_t code_point = 0;
    std::size_t length = 0;
};

std::optional<Decoded> decode_front(std::string_view text) {
    ucs4_t c = 0;
    const int length = u8_mbtoucr(&c, bytes_of(text), text.size());
    if (length <= 0) {
        return std::nullopt;
    }
    return Decoded{static_cast<char32_t>(c), static_cast<std::size_t>(length)};
}

// The code points of valid UTF-8.
std::vector<char32_t> code_points_of(std::string_view text) {
    std::vector<char32_t> out;
    while (!text.empty()) {
        const auto decoded = decode_front(text);
        if (!decoded) {
            break;
        }
        out.push_back(decoded->code_point);
        text.remove_prefix(decoded->length);
    }
    return out;
}

std::string hex(std::uint32_t value, int min_digits) {
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string out;
    for (int shift = 28; shift >= 0; shift -= 4) {
        const auto digit = (value >> static_cast<unsigned>(shift)) & 0xFU;
        if (digit != 0 || !out.empty() || shift < 4 * min_digits) {
            out += kDigits[digit];
        }
    }
    return out;
}

// "U+202E RIGHT-TO-LEFT OVERRIDE", or "U+0085" for a code point without a
// name (controls, private use, unassigned).
std::string describe(char32_t c) {
    std::string out = "U+" + hex(static_cast<std::uint32_t>(c), 4);
    std::array<char, UNINAME_MAX> name{};
    if (unicode_character_name(static_cast<ucs4_t>(c), name.data()) != nullptr) {
        out += ' ';
        out += name.data();
    }
    return out;
}

constexpr char32_t kBraillePatternBlank = 0x2800;

// Why a code point is refused ("" when it is not).
std::string_view refusal_reason(char32_t c) {
    const auto uc = static_cast<ucs4_t>(c);
    if (uc_is_general_category(uc, UC_CATEGORY_Cc) || uc_is_general_category(uc, UC_CATEGORY_Cf) ||
        uc_is_general_category(uc, UC_CATEGORY_Zl) || uc_is_general_category(uc, UC_CATEGORY_Zp)) {
        return "invisible, formatting or control character";
    }
    if (uc_is_general_category(uc, UC_CATEGORY_Co)) {
        return "private-use character";
    }
    if (uc_is_general_category(uc, UC_CATEGORY_Cs)) {
        return "surrogate";
    }
    if (uc_is_general_category(uc, UC_CATEGORY_Cn)) {
        return "unassigned code point or noncharacter";
    }
    // Default_Ignorable_Code_Point: code points a renderer shows as nothing
    // when it does not support them, and often when it does (U+034F, the
    // variation selectors U+FE00-FE0F and U+E0100-E01EF, U+17B5, U+180B,
    // the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, tags ...). Most are
    // letters or marks, not format characters, so the categories above miss
    // them (unassigned ones among them are reported as unassigned,
    // above). U+2800 BRAILLE PATTERN BLANK is not default-ignorable but shows
    // as a blank that is not a space (Zs), so nothing else would catch it.
    if (uc_is_property_default_ignorable_code_point(uc) || c == kBraillePatternBlank) {
        return "invisible or blank character";
    }
    return {};
}

struct FreeDeleter {
    void operator()(std::uint8_t* p) const noexcept { std::free(p); } // NOLINT(*-no-malloc)
};

// `text` (valid UTF-8) in NFC.
std::string nfc_of(std::string_view text) {
    std::size_t length = 0;
    const std::unique_ptr<std::uint8_t, FreeDeleter> normalized(
        u8_normalize(UNINORM_NFC, bytes_of(text), text.size(), nullptr, &length));
    if (!normalized) {
        throw std::bad_alloc();
    }
    return {reinterpret_cast<const char*>(normalized.get()), length};
}

// "U+0065 LATIN SMALL LETTER E, U+0301 COMBINING ACUTE ACCENT", at most a
// few of them.
std::string describe_all(const std::vector<char32_t>& code_points, std::size_t from,
                         std::size_t to) {
    static constexpr std::size_t kAtMost = 4;
    std::string out;
    for (std::size_t i = from; i < to && i < from + kAtMost; ++i) {
        out += (out.empty() ? "" : ", ") + describe(code_points[i]);
    }
    return to - from > kAtMost ? out + ", ..." : out;
}

// Where `text` and its NFC form differ, named code point by code point.
std::string nfc_problem(std::string_view text, std::string_view what) {
    const std::string normalized = nfc_of(text);
    if (normalized == text) {
        return {};
    }
    const std::vector<char32_t> original = code_points_of(text);
    const std::vector<char32_t> composed = code_points_of(normalized);
    std::size_t prefix = 0;
    while (prefix < original.size() && prefix < composed.size() &&
           original[prefix] == composed[prefix]) {
        ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix + prefix < original.size() && suffix + prefix < composed.size() &&
           original[original.size() - 1 - suffix] == composed[composed.size() - 1 - suffix]) {
        ++suffix;
    }
    return std::string(what) + " is not in Unicode normalization form C (NFC): " +
           describe_all(original, prefix, original.size() - suffix) + " must be written as " +
           describe_all(composed, prefix, composed.size() - suffix);
}

} // namespace

bool is_printable_code_point(char32_t c) {
    return c <= 0x10FFFF && refusal_reason(c).empty();
}

std::string printable_text_problem(std::string_view text, std::string_view what) {
    std::size_t offset = 0;
    for (std::string_view rest = text; !rest.empty();) {
        const auto decoded = decode_front(rest);
        if (!decoded) {
            return std::string(what) + " is not valid UTF-8 (byte 0x" +
                   hex(static_cast<unsigned char>(rest.front()), 2) + " at offset " +
                   std::to_string(offset) + ")";
        }
        if (const std::string_view reason = refusal_reason(decoded->code_point); !reason.empty()) {
            return std::string(what) + " contains " + describe(decoded->code_point) +
                   ", which is not allowed (" + std::string(reason) + ")";
        }
        rest.remove_prefix(decoded->length);
        offset += decoded->length;
    }
    return nfc_problem(text, what);
}

std::string escaped_for_display(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::string_view rest = text; !rest.empty();) {
        const auto decoded = decode_front(rest);
        if (!decoded) {
            out += "\\x" + hex(static_cast<unsigned char>(rest.front()), 2);
            rest.remove_prefix(1);
            continue;
        }
        if (is_printable_code_point(decoded->code_point)) {
            out += rest.substr(0, decoded->length);
        } else {
            out += "\\u{" + hex(static_cast<std::uint32_t>(decoded->code_point), 4) + "}";
        }
        rest.remove_prefix(decoded->length);
    }
    return out;
}

std::string escaped_for_json(std::string_view json) {
    std::string out;
    out.reserve(json.size());
    const auto escape = [&out](std::uint32_t unit) { out += "\\u" + hex(unit, 4); };
    for (std::string_view rest = json; !rest.empty();) {
        const auto decoded = decode_front(rest);
        const std::size_t length = decoded ? decoded->length : 1;
        const bool json_whitespace =
            length == 1 && (rest.front() == '\n' || rest.front() == '\t' || rest.front() == '\r');
        if (!decoded || json_whitespace || is_printable_code_point(decoded->code_point)) {
            out += rest.substr(0, length); // invalid bytes: not ours to repair
        } else if (decoded->code_point > 0xFFFF) {
            const auto value = static_cast<std::uint32_t>(decoded->code_point) - 0x10000U;
            escape(0xD800U + (value >> 10U));
            escape(0xDC00U + (value & 0x3FFU));
        } else {
            escape(static_cast<std::uint32_t>(decoded->code_point));
        }
        rest.remove_prefix(length);
    }
    return out;
}

std::size_t code_point_count(std::string_view text) {
    std::size_t count = 0;
    while (!text.empty()) {
        const auto decoded = decode_front(text);
        text.remove_prefix(decoded ? decoded->length : 1);
        ++count;
    }
    return count;
}

bool starts_or_ends_with_space(std::string_view text) {
    const std::vector<char32_t> code_points = code_points_of(text);
    const auto is_space = [](char32_t c) {
        return uc_is_general_category(static_cast<ucs4_t>(c), UC_CATEGORY_Zs);
    };
    return !code_points.empty() && (is_space(code_points.front()) || is_space(code_points.back()));
}

std::size_t display_columns(std::string_view text) {
    if (u8_check(bytes_of(text), text.size()) != nullptr) {
        return text.size();
    }
    const int columns = u8_width(bytes_of(text), text.size(), "UTF-8");
    return columns < 0 ? text.size() : static_cast<std::size_t>(columns);
}

} // namespace apitoken::text
