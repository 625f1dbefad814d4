#include "store/token_format.hpp"

#include "store/sodium_init.hpp"

#include <sodium.h>
#include <zlib.h>

#include <algorithm>

namespace apitoken::store {
namespace {

constexpr std::size_t kIdOffset = kTokenPrefix.size();
constexpr std::size_t kSecretOffset = kIdOffset + kTokenIdHexLength;
constexpr std::size_t kChecksumOffset = kSecretOffset + kTokenSecretHexLength;

std::uint32_t crc32_of(std::string_view text) noexcept {
    const auto* bytes = reinterpret_cast<const Bytef*>(text.data());
    return static_cast<std::uint32_t>(::crc32(0L, bytes, static_cast<uInt>(text.size())));
}

void write_checksum_hex(std::uint32_t crc, char* out) noexcept {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < kTokenChecksumHexLength; ++i) {
        const auto shift = 4 * (kTokenChecksumHexLength - 1 - i);
        out[i] = kDigits[(crc >> shift) & 0xFU];
    }
}

// Lowercase hex of `bytes` into `out` (2 * size characters, no terminator).
void write_hex(const unsigned char* bytes, std::size_t size, char* out) noexcept {
    // sodium_bin2hex needs room for a terminator; a small stack buffer for the
    // secret would be one more copy to wipe, so encode by hand here.
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4U];
        out[2 * i + 1] = kDigits[bytes[i] & 0xFU];
    }
}

} // namespace

std::optional<TokenId> TokenId::from_hex(std::string_view hex) noexcept {
    if (hex.size() != kTokenIdHexLength || !is_lower_hex(hex)) {
        return std::nullopt;
    }
    Bytes bytes{};
    if (sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, nullptr,
                       nullptr) != 0) {
        return std::nullopt;
    }
    return TokenId(bytes);
}

TokenId TokenId::random() {
    ensure_sodium_initialized();
    Bytes bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    return TokenId(bytes);
}

std::string TokenId::hex() const {
    std::string out(kTokenIdHexLength, '0');
    write_hex(bytes_.data(), bytes_.size(), out.data());
    return out;
}

std::string_view TokenId::key() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
}

GeneratedToken generate_token() {
    return generate_token(TokenId::random());
}

GeneratedToken generate_token(const TokenId& id) {
    ensure_sodium_initialized();
    GeneratedToken token{id, SecretBuffer(kTokenLength)};
    char* text = token.text.data();
    std::copy(kTokenPrefix.begin(), kTokenPrefix.end(), text);
    write_hex(id.bytes().data(), TokenId::kBytes, text + kIdOffset);

    SecretBuffer secret(kTokenSecretHexLength / 2);
    auto* secret_bytes = reinterpret_cast<unsigned char*>(secret.data());
    randombytes_buf(secret_bytes, secret.size());
    write_hex(secret_bytes, secret.size(), text + kSecretOffset);

    write_checksum_hex(crc32_of({text, kChecksumOffset}), text + kChecksumOffset);
    return token;
}

std::optional<TokenId> parse_token(std::string_view text) noexcept {
    if (!has_token_shape(text)) {
        return std::nullopt;
    }
    char expected[kTokenChecksumHexLength];
    write_checksum_hex(crc32_of(text.substr(0, kChecksumOffset)), expected);
    // The checksum is public (it is derived from the rest of the token), so a
    // plain comparison leaks nothing worth a constant-time compare.
    if (text.substr(kChecksumOffset) != std::string_view(expected, sizeof expected)) {
        return std::nullopt;
    }
    return TokenId::from_hex(text.substr(kIdOffset, kTokenIdHexLength));
}

} // namespace apitoken::store
