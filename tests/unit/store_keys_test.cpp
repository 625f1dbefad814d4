#include "store/store_keys.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace apitoken::store {
namespace {

using std::chrono::seconds;

TimePoint at(std::int64_t unix_seconds) {
    return TimePoint{seconds{unix_seconds}};
}

TEST(StoreKeys, U32IsFourLittleEndianBytes) {
    EXPECT_EQ(encode_u32(2), std::string("\x02\x00\x00\x00", 4));
    EXPECT_EQ(encode_u32(0x01020304U), "\x04\x03\x02\x01");
    EXPECT_EQ(decode_u32(encode_u32(0xFFFFFFFFU)), 0xFFFFFFFFU);
    EXPECT_EQ(decode_u32(std::string("\x02\x00\x00\x00", 4)), 2U);
    EXPECT_FALSE(decode_u32(""));
    EXPECT_FALSE(decode_u32(std::string(3, '\0')));
    EXPECT_FALSE(decode_u32(std::string(5, '\0')));
}

TEST(StoreKeys, ExpiryKeyIsBigEndianSecondsThenTheId) {
    const auto id = TokenId::from_hex("0123456789ab").value();
    const std::string key = expiry_key(at(0x0102030405), id);
    ASSERT_EQ(key.size(), kExpiryKeyBytes);
    EXPECT_EQ(key, std::string("\0\0\0\x01\x02\x03\x04\x05", 8) + std::string(id.key()));
    const auto entry = parse_expiry_key(key);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->expires, at(0x0102030405));
    EXPECT_EQ(entry->id, id);
}

// The purge walks by_expiry in LMDB's byte order and stops at the cut-off:
// that order has to be time order, then id order.
TEST(StoreKeys, ExpiryKeysSortByTimeThenId) {
    const auto low = TokenId::from_hex("ff0000000000").value();
    const auto high = TokenId::from_hex("ff0000000001").value();
    EXPECT_LT(expiry_key(at(255), high), expiry_key(at(256), low));
    EXPECT_LT(expiry_key(at(1'700'000'000), high), expiry_key(at(1'800'000'000), low));
    EXPECT_LT(expiry_key(at(256), low), expiry_key(at(256), high));
}

TEST(StoreKeys, AnExpiryBefore1970CountsAs1970) {
    const auto id = TokenId::random();
    EXPECT_EQ(expiry_key(at(-5), id), expiry_key(at(0), id));
}

TEST(StoreKeys, ExpiryKeyOfTheWrongSizeIsRejected) {
    const std::string key = expiry_key(at(42), TokenId::random());
    EXPECT_FALSE(parse_expiry_key(""));
    EXPECT_FALSE(parse_expiry_key(key.substr(1)));
    EXPECT_FALSE(parse_expiry_key(key + "x"));
}

} // namespace
} // namespace apitoken::store
