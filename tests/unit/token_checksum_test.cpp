// The one token checksum (contract/token_checksum) that the store and
// apitokenctl scan share.
#include "contract/token_checksum.hpp"
#include "store/token_format.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace apitoken::store {
namespace {

constexpr std::string_view kZeroBody = "atk_000000000000"
                                       "00000000000000000000000000000000";

TEST(TokenChecksum, IsZlibCrc32OfTheFirst48CharactersInLowercaseHex) {
    const TokenChecksumHex checksum = token_checksum_hex(kZeroBody);
    EXPECT_EQ(std::string(checksum.begin(), checksum.end()), "ec6cdec2");
    const std::string body(kZeroBody);
    EXPECT_TRUE(is_checksummed_token(body + "ec6cdec2"));
    EXPECT_FALSE(is_checksummed_token(body + "ec6cdec3"));
    EXPECT_FALSE(is_checksummed_token(body + "EC6CDEC2")) << "uppercase";
}

TEST(TokenChecksum, AgreesWithTheStoreOnGeneratedAndChangedTokens) {
    for (int i = 0; i < 1000; ++i) {
        const GeneratedToken token = generate_token();
        const std::string text(token.text.view());
        ASSERT_TRUE(is_checksummed_token(text));
        EXPECT_EQ(parse_token(text), token.id);
        std::string changed = text;
        changed[kTokenSecretOffset + static_cast<std::size_t>(i % 32)] ^= 1;
        EXPECT_EQ(is_checksummed_token(changed), parse_token(changed).has_value());
        EXPECT_FALSE(is_checksummed_token(changed));
    }
}

TEST(TokenChecksum, RefusesWrongShapes) {
    const std::string valid = std::string(kZeroBody) + "ec6cdec2";
    EXPECT_FALSE(is_checksummed_token(""));
    EXPECT_FALSE(is_checksummed_token(valid.substr(0, kTokenLength - 1)));
    EXPECT_FALSE(is_checksummed_token(valid + "0"));
    EXPECT_FALSE(is_checksummed_token("ATK_" + valid.substr(4)));
    EXPECT_FALSE(is_checksummed_token("btk_" + valid.substr(4)));
}

} // namespace
} // namespace apitoken::store
