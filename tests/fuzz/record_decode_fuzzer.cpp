// Fuzzes store::decode_record, which reads LMDB values: a damaged or
// hand-edited data.mdb must give nullopt, never a crash or an over-read.
#include "store/record_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using apitoken::fuzz::check;
using namespace apitoken::store;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const TokenId id(TokenId::Bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab});
    const auto record = decode_record(id, bytes);
    if (!record) {
        return 0;
    }
    check(record->id == id, "decode_record did not keep the id it was given");
    // Whatever decodes must encode (every field came from a length the format
    // can hold) and decode back to the same record. The bytes need not match:
    // an absent time's 8 bytes (or id's 6) are ignored, and encode writes
    // zeros there; an older format's record is written in the current one.
    const std::string encoded = encode_record(*record);
    check(bytes[0] != static_cast<char>(kRecordFormat) || encoded.size() == bytes.size(),
          "re-encoded record has a different size");
    const auto again = decode_record(id, encoded);
    check(again.has_value(), "encode_record output does not decode");
    check(*again == *record, "record changed on encode/decode");
    check(encode_record(*again) == encoded, "encode_record is not deterministic");
    return 0;
}
