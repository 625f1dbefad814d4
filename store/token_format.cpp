#include "store/token_format.hpp"

#include "contract/token_checksum.hpp"
#include "store/sodium_init.hpp"

#include <sodium.h>

#include <algorithm>

namespace apitoken::store {
namespace {

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

std::optional<TokenId> TokenId::from_bytes(std::string_view bytes) noexcept {
    if (bytes.size() != kBytes) {
        return std::nullopt;
    }
    Bytes out{};
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return TokenId(out);
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
    write_hex(id.bytes().data(), TokenId::kBytes, text + kTokenIdOffset);

    SecretBuffer secret(kTokenSecretHexLength / 2);
    auto* secret_bytes = reinterpret_cast<unsigned char*>(secret.data());
    randombytes_buf(secret_bytes, secret.size());
    write_hex(secret_bytes, secret.size(), text + kTokenSecretOffset);

    const TokenChecksumHex checksum = token_checksum_hex({text, kTokenChecksumOffset});
    std::copy(checksum.begin(), checksum.end(), text + kTokenChecksumOffset);
    return token;
}

std::optional<TokenId> parse_token(std::string_view text) noexcept {
    if (!is_checksummed_token(text)) { // prefix, length, alphabet, checksum
        return std::nullopt;
    }
    return TokenId::from_hex(text.substr(kTokenIdOffset, kTokenIdHexLength));
}

} // namespace apitoken::store
