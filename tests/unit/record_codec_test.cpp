#include "store/record_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace apitoken::store {
namespace {

TokenRecord full_record() {
    TokenRecord r;
    r.id = *TokenId::from_hex("0123456789ab");
    r.user = "alice";
    r.uid = 1000;
    r.name = "ci-upload";
    r.created = TimePoint{std::chrono::seconds{1'800'000'000}};
    r.expires = TimePoint{std::chrono::seconds{1'900'000'000}};
    r.services = {"sshd", "vsftpd"};
    r.hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA";
    r.use_count = 42;
    r.last_used = TimePoint{std::chrono::seconds{1'850'000'000}};
    r.last_service = "sshd";
    r.last_rhost = "192.0.2.7";
    return r;
}

TEST(RecordCodec, RoundTripsEveryField) {
    const TokenRecord r = full_record();
    EXPECT_EQ(decode_record(r.id, encode_record(r)), r);
}

TEST(RecordCodec, RoundTripsAbsentOptionals) {
    TokenRecord r = full_record();
    r.expires.reset();
    r.last_used.reset();
    r.services.clear();
    r.last_service.clear();
    r.last_rhost.clear();
    r.use_count = 0;
    EXPECT_EQ(decode_record(r.id, encode_record(r)), r);
}

TEST(RecordCodec, EveryTruncationAndAnyTrailingByteIsRejected) {
    const TokenRecord r = full_record();
    const std::string bytes = encode_record(r);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        EXPECT_FALSE(decode_record(r.id, bytes.substr(0, size))) << "accepted a prefix of " << size;
    }
    EXPECT_FALSE(decode_record(r.id, bytes + '\0'));
}

TEST(RecordCodec, UnknownFormatByteIsRejected) {
    std::string bytes = encode_record(full_record());
    bytes[0] = static_cast<char>(kRecordFormat + 1);
    EXPECT_FALSE(decode_record(full_record().id, bytes));
}

TEST(RecordCodec, BadPresenceFlagIsRejected) {
    std::string bytes = encode_record(full_record());
    // Layout: format(1) uid(4) created(8) expires-present(1)...
    bytes[13] = 2;
    EXPECT_FALSE(decode_record(full_record().id, bytes));
}

TEST(RecordCodec, OversizedFieldIsRefusedAtEncode) {
    TokenRecord r = full_record();
    r.last_rhost.assign(70'000, 'x');
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
}

} // namespace
} // namespace apitoken::store
