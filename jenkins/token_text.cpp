#include "jenkins/token_text.hpp"

namespace apitoken::jenkins {

namespace {

std::optional<std::uint8_t> hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return static_cast<std::uint8_t>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<std::uint8_t>(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return static_cast<std::uint8_t>(c - 'A' + 10);
    }
    return std::nullopt;
}

} // namespace

bool is_uuid(std::string_view text) {
    constexpr std::size_t kLength = 36;
    if (text.size() != kLength) {
        return false;
    }
    for (std::size_t i = 0; i < kLength; ++i) {
        const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_here ? text[i] != '-' : !hex_value(text[i])) {
            return false;
        }
    }
    return true;
}

std::optional<Sha256> parse_sha256_hex(std::string_view text) {
    Sha256 bytes{};
    if (text.size() != bytes.size() * 2) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto high = hex_value(text[2 * i]);
        const auto low = hex_value(text[2 * i + 1]);
        if (!high || !low) {
            return std::nullopt;
        }
        bytes[i] = static_cast<std::uint8_t>(*high << 4U | *low);
    }
    return bytes;
}

} // namespace apitoken::jenkins
