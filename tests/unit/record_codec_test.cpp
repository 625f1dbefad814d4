#include "store/record_codec.hpp"
#include "tests/support/record_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace apitoken::store {
namespace {

using apitoken::testing::format1_record_bytes;
using apitoken::testing::full_record;

// `r` with the fields format 1 had, and defaults for the others.
TokenRecord format1_fields_of(const TokenRecord& r) {
    TokenRecord old;
    old.id = r.id;
    old.user = r.user;
    old.uid = r.uid;
    old.name = r.name;
    old.created = r.created;
    old.expires = r.expires;
    old.services = r.services;
    old.hash = r.hash;
    old.use_count = r.use_count;
    old.last_used = r.last_used;
    old.last_service = r.last_service;
    old.last_rhost = r.last_rhost;
    return old;
}

TEST(RecordCodec, RoundTripsEveryField) {
    const TokenRecord r = full_record();
    EXPECT_EQ(static_cast<std::uint8_t>(encode_record(r)[0]), kRecordFormat);
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
    r.description.clear();
    r.sources.clear();
    r.max_uses = 0;
    r.hosts.clear();
    r.recent_sources.clear();
    r.origin = kOriginApitoken;
    r.origin_id.clear();
    r.rotated_from.reset();
    r.rotated_to.reset();
    r.grace_until.reset();
    r.expiry_warned = false;
    EXPECT_EQ(decode_record(r.id, encode_record(r)), r);
}

TEST(RecordCodec, EachPolicyFieldRoundTripsAlone) {
    const TokenRecord full = full_record();
    const TokenRecord base = format1_fields_of(full);
    std::vector<TokenRecord> variants(12, base);
    variants[0].description = full.description;
    variants[1].sources = full.sources;
    variants[2].max_uses = full.max_uses;
    variants[3].hosts = full.hosts;
    variants[4].recent_sources = full.recent_sources;
    variants[5].origin = full.origin;
    variants[6].origin_id = full.origin_id;
    variants[7].rotated_from = full.rotated_from;
    variants[8].rotated_to = full.rotated_to;
    variants[9].grace_until = full.grace_until;
    variants[10].created_by = 4242;
    variants[11].expiry_warned = true;
    for (std::size_t i = 0; i < variants.size(); ++i) {
        EXPECT_NE(variants[i], base) << "variant " << i << " changes nothing";
        EXPECT_EQ(decode_record(base.id, encode_record(variants[i])), variants[i])
            << "variant " << i;
    }
}

TEST(RecordCodec, Format1RecordDecodesWithTheNewFieldsAtTheirDefaults) {
    const TokenRecord full = full_record();
    const auto decoded = decode_record(full.id, format1_record_bytes(full));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, format1_fields_of(full));
    EXPECT_EQ(decoded->origin, kOriginApitoken);
    EXPECT_EQ(decoded->max_uses, 0U);
    EXPECT_FALSE(decoded->rotated());
    EXPECT_FALSE(decoded->expiry_warned);
}

TEST(RecordCodec, Format1RecordIsWrittenBackInTheCurrentFormat) {
    const TokenRecord old = format1_fields_of(full_record());
    const std::string bytes = encode_record(*decode_record(old.id, format1_record_bytes(old)));
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), kRecordFormat);
    EXPECT_EQ(decode_record(old.id, bytes), old);
}

TEST(RecordCodec, EveryTruncationAndAnyTrailingByteIsRejected) {
    const TokenRecord r = full_record();
    for (const std::string& bytes : {encode_record(r), format1_record_bytes(r)}) {
        for (std::size_t size = 0; size < bytes.size(); ++size) {
            EXPECT_FALSE(decode_record(r.id, bytes.substr(0, size)))
                << "accepted a prefix of " << size;
        }
        EXPECT_FALSE(decode_record(r.id, bytes + '\0'));
    }
}

TEST(RecordCodec, UnknownFormatByteIsRejected) {
    std::string bytes = encode_record(full_record());
    bytes[0] = static_cast<char>(kRecordFormat + 1);
    EXPECT_FALSE(decode_record(full_record().id, bytes));
    bytes[0] = 0;
    EXPECT_FALSE(decode_record(full_record().id, bytes));
}

TEST(RecordCodec, BadPresenceFlagIsRejected) {
    std::string bytes = encode_record(full_record());
    // Layout: format(1) uid(4) created(8) expires-present(1)...
    bytes[13] = 2;
    EXPECT_FALSE(decode_record(full_record().id, bytes));
}

TEST(RecordCodec, BadBooleanIsRejected) {
    std::string bytes = encode_record(full_record());
    // The last byte is expiry_warned: 0 or 1.
    bytes.back() = 2;
    EXPECT_FALSE(decode_record(full_record().id, bytes));
}

TEST(RecordCodec, BadRotationLinkFlagIsRejected) {
    TokenRecord r = full_record();
    // Layout of the end: rotated_from (1+6) rotated_to (1+6) grace (1+8)
    // created_by (4) expiry_warned (1).
    std::string bytes = encode_record(r);
    const std::size_t rotated_from_flag = bytes.size() - 1 - 4 - 9 - 7 - 7;
    ASSERT_EQ(bytes[rotated_from_flag], 1);
    bytes[rotated_from_flag] = 2;
    EXPECT_FALSE(decode_record(r.id, bytes));
}

TEST(RecordCodec, OversizedFieldIsRefusedAtEncode) {
    TokenRecord r = full_record();
    r.last_rhost.assign(70'000, 'x');
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
    r = full_record();
    r.description.assign(70'000, 'x');
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
}

TEST(RecordCodec, OversizedListIsRefusedAtEncode) {
    TokenRecord r = full_record();
    r.sources.assign(70'000, "x");
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
    r = full_record();
    r.recent_sources.assign(256, r.recent_sources.front());
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
    r = full_record();
    r.services.assign(256, "sshd");
    EXPECT_ANY_THROW(static_cast<void>(encode_record(r)));
}

} // namespace
} // namespace apitoken::store
