#include "cli/token_search.hpp"

#include "contract/token_checksum.hpp"
#include "contract/token_shape.hpp"

#include <algorithm>
#include <bit>
#include <cstring> // and memrchr (GNU)

namespace apitoken::cli {
namespace {

using store::kTokenLength;
using store::kTokenPrefix;

// 16 bytes compared at once (GCC's and clang's vector extensions: SSE2 on
// x86-64, NEON on arm64, plain code elsewhere).
using Block = char __attribute__((vector_size(16)));
constexpr std::size_t kBlockSize = sizeof(Block);

Block load(const char* at) noexcept {
    Block block;
    std::memcpy(&block, at, kBlockSize);
    return block;
}

// Counters, one per byte position (unsigned: they wrap, well defined).
using Lanes = unsigned char __attribute__((vector_size(16)));

// 1 in each lane holding '\n', else 0.
Lanes newlines_at(const char* at) noexcept {
    const auto matches = load(at) == '\n'; // -1 or 0 per lane
    Lanes lanes;
    std::memcpy(&lanes, &matches, sizeof lanes);
    return lanes & 1;
}

// The index of the first byte set in a comparison result's 8-byte half.
int first_set_byte(std::uint64_t bits) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        return std::countr_zero(bits) / 8;
    } else {
        return std::countl_zero(bits) / 8;
    }
}

std::uint64_t without_byte(std::uint64_t bits, int index) noexcept {
    const int shift = std::endian::native == std::endian::little ? 8 * index : 8 * (7 - index);
    return bits & ~(std::uint64_t{0xFF} << shift);
}

bool is_lower_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

} // namespace

std::size_t find_token_prefix(std::string_view data, std::size_t from) noexcept {
    const char* base = data.data();
    const std::size_t size = data.size();
    // Each round checks 16 starting positions: 'a' there and '_' three bytes
    // on (the rarest pair of "atk_" in text); a candidate's "tk" is checked
    // one by one. A round reads 19 bytes.
    constexpr std::size_t kRoundBytes = kBlockSize + kTokenPrefix.size() - 1;
    std::size_t at = from;
    for (; size >= kRoundBytes && at <= size - kRoundBytes; at += kBlockSize) {
        const Block hits = (load(base + at) == 'a') & (load(base + at + 3) == '_');
        std::uint64_t halves[2];
        std::memcpy(static_cast<void*>(halves), &hits, sizeof halves);
        for (std::size_t half = 0; half < 2; ++half) {
            for (std::uint64_t bits = halves[half]; bits != 0;) {
                const int index = first_set_byte(bits);
                const std::size_t candidate = at + 8 * half + static_cast<std::size_t>(index);
                if (base[candidate + 1] == 't' && base[candidate + 2] == 'k') {
                    return candidate;
                }
                bits = without_byte(bits, index);
            }
        }
    }
    return at < size ? data.find(kTokenPrefix, at) : std::string_view::npos;
}

std::size_t count_newlines(std::string_view data) noexcept {
    const char* at = data.data();
    const char* const end = at + data.size();
    std::size_t count = 0;
    while (static_cast<std::size_t>(end - at) >= kBlockSize) {
        // Each lane of `sums` counts the newlines of up to 255 blocks.
        Lanes sums{};
        for (int round = 0; round < 255 && static_cast<std::size_t>(end - at) >= kBlockSize;
             ++round, at += kBlockSize) {
            sums += newlines_at(at);
        }
        unsigned char lanes[kBlockSize];
        std::memcpy(static_cast<void*>(lanes), &sums, sizeof lanes);
        for (const unsigned char lane : lanes) {
            count += lane;
        }
    }
    return count + static_cast<std::size_t>(std::count(at, end, '\n'));
}

std::string without_secrets(std::string_view text) {
    std::string out;
    std::size_t copied = 0;
    for (std::size_t at = find_token_prefix(text, 0); at != std::string_view::npos;
         at = find_token_prefix(text, at + kTokenPrefix.size())) {
        const std::size_t after = at + kTokenLength;
        if ((after < text.size() && is_lower_hex_digit(text[after])) ||
            !store::is_checksummed_token(text.substr(at, kTokenLength))) {
            continue;
        }
        out.append(text.substr(copied, at - copied));
        out.append(text.substr(at, kTokenPrefix.size() + store::kTokenIdHexLength));
        out.append("\u2026");
        copied = after;
        at = after - kTokenPrefix.size(); // the next search starts after the token
    }
    out.append(text.substr(copied));
    return out;
}

void TokenFinder::count_lines(std::string_view data, std::size_t from, std::size_t to) noexcept {
    if (to <= from) {
        return;
    }
    const std::string_view part = data.substr(from, to - from);
    const std::size_t newlines = count_newlines(part);
    if (newlines == 0) {
        return;
    }
    line_ += newlines;
    const auto* last = static_cast<const char*>(::memrchr(part.data(), '\n', part.size()));
    line_start_ = offset_ + static_cast<std::size_t>(last - data.data()) + 1;
}

std::size_t TokenFinder::search(std::string_view data, bool end_of_input, const Found& found) {
    const std::size_t size = data.size();
    // A token starting at p is decided once the byte after it is seen, or
    // the input ended: positions before `decided` are decided in this call.
    std::size_t decided = 0;
    if (end_of_input) {
        decided = size >= kTokenLength ? size - kTokenLength + 1 : 0;
    } else {
        decided = size > kTokenLength ? size - kTokenLength : 0;
    }
    // Only prefixes starting before `decided` are looked at.
    const std::string_view window = data.substr(0, std::min(size, decided + 3));
    std::size_t counted = 0;
    for (std::size_t at = find_token_prefix(window, 0); at != std::string_view::npos;
         at = find_token_prefix(window, at + kTokenPrefix.size())) {
        const std::string_view candidate = data.substr(at, kTokenLength);
        const std::size_t after = at + kTokenLength;
        if ((after < size && is_lower_hex_digit(data[after])) ||
            !store::is_checksummed_token(candidate)) {
            continue;
        }
        count_lines(data, counted, at);
        counted = at;
        found(candidate, line_, offset_ + at - line_start_ + 1);
    }
    if (end_of_input) {
        return 0;
    }
    count_lines(data, counted, decided);
    offset_ += decided;
    return size - decided;
}

} // namespace apitoken::cli
