#include "contract/token_checksum.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>

namespace apitoken::store {

TokenChecksumHex token_checksum_hex(std::string_view body) noexcept {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    const auto* bytes = reinterpret_cast<const Bytef*>(body.data());
    const auto crc = static_cast<std::uint32_t>(::crc32(0L, bytes, static_cast<uInt>(body.size())));
    TokenChecksumHex out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto shift = 4 * (out.size() - 1 - i);
        out[i] = kDigits[(crc >> shift) & 0xFU];
    }
    return out;
}

bool is_checksummed_token(std::string_view text) noexcept {
    if (!has_token_shape(text)) {
        return false;
    }
    const TokenChecksumHex expected = token_checksum_hex(text.substr(0, kTokenChecksumOffset));
    return std::equal(expected.begin(), expected.end(), text.begin() + kTokenChecksumOffset);
}

} // namespace apitoken::store
