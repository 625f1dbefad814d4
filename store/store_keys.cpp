#include "store/store_keys.hpp"

#include <algorithm>
#include <chrono>

namespace apitoken::store {
namespace {

template <typename Unsigned>
std::string encode_little_endian(Unsigned value) {
    std::string out(sizeof(Unsigned), '\0');
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
        out[i] = static_cast<char>((value >> (8 * i)) & 0xFFU);
    }
    return out;
}

// nullopt unless exactly sizeof(Unsigned) bytes.
template <typename Unsigned>
std::optional<Unsigned> decode_little_endian(std::string_view bytes) noexcept {
    if (bytes.size() != sizeof(Unsigned)) {
        return std::nullopt;
    }
    Unsigned value = 0;
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
        value |= Unsigned{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    return value;
}

constexpr std::size_t kSecondsBytes = kExpiryKeyBytes - TokenId::kBytes;

} // namespace

std::string encode_u32(std::uint32_t value) {
    return encode_little_endian(value);
}

std::optional<std::uint32_t> decode_u32(std::string_view bytes) noexcept {
    return decode_little_endian<std::uint32_t>(bytes);
}

std::string encode_u64(std::uint64_t value) {
    return encode_little_endian(value);
}

std::optional<std::uint64_t> decode_u64(std::string_view bytes) noexcept {
    return decode_little_endian<std::uint64_t>(bytes);
}

std::string expiry_key(TimePoint expires, const TokenId& id) {
    const auto seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count()));
    std::string key(kSecondsBytes, '\0');
    for (std::size_t i = 0; i < kSecondsBytes; ++i) {
        key[i] = static_cast<char>((seconds >> (8 * (kSecondsBytes - 1 - i))) & 0xFFU);
    }
    return key + std::string(id.key());
}

std::optional<ExpiryEntry> parse_expiry_key(std::string_view key) noexcept {
    if (key.size() != kExpiryKeyBytes) {
        return std::nullopt;
    }
    std::uint64_t seconds = 0;
    for (std::size_t i = 0; i < kSecondsBytes; ++i) {
        seconds = (seconds << 8U) | static_cast<unsigned char>(key[i]);
    }
    const auto id = TokenId::from_bytes(key.substr(kSecondsBytes));
    if (!id) {
        return std::nullopt;
    }
    return ExpiryEntry{TimePoint{std::chrono::seconds{static_cast<std::int64_t>(seconds)}}, *id};
}

} // namespace apitoken::store
