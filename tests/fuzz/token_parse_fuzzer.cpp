// Fuzzes store::parse_token and store::TokenId::from_hex: any bytes may reach
// them (PAM_AUTHTOK, a D-Bus string, a CLI argument), and they decide whether
// the store is touched at all.
#include "store/token_format.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using apitoken::fuzz::check;
using namespace apitoken::store;

constexpr std::size_t kIdOffset = kTokenPrefix.size();
constexpr std::size_t kChecksumOffset = kTokenLength - kTokenChecksumHexLength;

void check_token_id(std::string_view text) {
    const auto id = TokenId::from_hex(text);
    if (!id) {
        return;
    }
    check(text.size() == kTokenIdHexLength && is_lower_hex(text),
          "from_hex accepted something that is not 12 lowercase hex digits");
    check(id->hex() == text, "TokenId::hex() does not give back the accepted text");
    check(id->key().size() == TokenId::kBytes, "TokenId::key() is not 6 bytes");
}

void check_parsed_token(std::string_view text) {
    const auto id = parse_token(text);
    if (!id) {
        return;
    }
    check(has_token_shape(text), "parse_token accepted text that is not token-shaped");
    check(id->hex() == text.substr(kIdOffset, kTokenIdHexLength),
          "parse_token returned an id other than the one in the text");
}

// A random mutation almost never keeps the CRC32 right, so on its own the
// fuzzer would only ever explore the rejection paths. For token-shaped input
// this writes the correct checksum in, and then the token must be accepted.
void check_with_fixed_checksum(std::string_view text) {
    if (!has_token_shape(text)) {
        return;
    }
    std::string fixed(text);
    const auto crc = static_cast<std::uint32_t>(
        ::crc32(0L, reinterpret_cast<const Bytef*>(fixed.data()), kChecksumOffset));
    char checksum_hex[kTokenChecksumHexLength + 1];
    static_cast<void>(std::snprintf(checksum_hex, sizeof checksum_hex, "%08x", crc));
    fixed.replace(kChecksumOffset, kTokenChecksumHexLength, checksum_hex, kTokenChecksumHexLength);
    const auto id = parse_token(fixed);
    check(id.has_value(), "parse_token refused a token-shaped text with the right checksum");
    check(id->hex() == std::string_view(fixed).substr(kIdOffset, kTokenIdHexLength),
          "parse_token returned an id other than the one in the text");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_parsed_token(text);
    check_with_fixed_checksum(text);
    check_token_id(text);
    // An id inside a token-sized input, where the shape check has a say.
    if (text.size() >= kIdOffset + kTokenIdHexLength) {
        check_token_id(text.substr(kIdOffset, kTokenIdHexLength));
    }
    return 0;
}
