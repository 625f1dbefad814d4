#include "store/token_format.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace apitoken::store {
namespace {

std::string generated_text() {
    return std::string(generate_token().text.view());
}

TEST(TokenFormat, GeneratedTokensMatchTheContractPattern) {
    const std::regex pattern("^atk_[0-9a-f]{52}$");
    for (int i = 0; i < 100; ++i) {
        const auto text = generated_text();
        EXPECT_EQ(text.size(), kTokenLength);
        EXPECT_TRUE(std::regex_match(text, pattern)) << "token #" << i << " has the wrong shape";
    }
}

TEST(TokenFormat, TenThousandGeneratedTokensAreUniqueAndParseToTheirId) {
    std::set<std::string> texts;
    std::set<TokenId> ids;
    for (int i = 0; i < 10'000; ++i) {
        const GeneratedToken token = generate_token();
        const auto parsed = parse_token(token.text.view());
        ASSERT_TRUE(parsed.has_value()) << "generated token #" << i << " did not parse";
        EXPECT_EQ(*parsed, token.id);
        EXPECT_EQ(token.text.view().substr(4, 12), token.id.hex());
        texts.emplace(token.text.view());
        ids.insert(token.id);
    }
    EXPECT_EQ(texts.size(), 10'000U);
    EXPECT_EQ(ids.size(), 10'000U);
}

TEST(TokenFormat, EverySingleCharacterChangeIsRejected) {
    const auto valid = generated_text();
    ASSERT_TRUE(parse_token(valid));
    std::size_t variants = 0;
    for (std::size_t pos = 0; pos < valid.size(); ++pos) {
        for (int byte = 0; byte < 256; ++byte) {
            const char replacement = static_cast<char>(byte);
            if (replacement == valid[pos]) {
                continue;
            }
            std::string changed = valid;
            changed[pos] = replacement;
            EXPECT_FALSE(parse_token(changed))
                << "accepted a change at " << pos << " to byte " << byte;
            ++variants;
        }
    }
    EXPECT_EQ(variants, kTokenLength * 255);
}

TEST(TokenFormat, RejectsWrongPrefixLengthAlphabetAndChecksum) {
    const auto valid = generated_text();
    EXPECT_FALSE(parse_token(""));
    EXPECT_FALSE(parse_token("atk_"));
    EXPECT_FALSE(parse_token(valid.substr(0, kTokenLength - 1)));
    EXPECT_FALSE(parse_token(valid + "0"));
    EXPECT_FALSE(parse_token(" " + valid));
    EXPECT_FALSE(parse_token("ATK_" + valid.substr(4)));
    EXPECT_FALSE(parse_token("xtk_" + valid.substr(4)));

    std::string upper = valid;
    for (auto& c : upper) {
        c = (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    upper.replace(0, 4, "atk_");
    if (upper != valid) {
        EXPECT_FALSE(parse_token(upper)) << "uppercase hex must be refused";
    }

    // Two swapped adjacent characters (a typical typo) change the CRC too.
    std::string swapped = valid;
    for (std::size_t pos = 4; pos + 1 < valid.size(); ++pos) {
        if (valid[pos] != valid[pos + 1]) {
            std::swap(swapped[pos], swapped[pos + 1]);
            EXPECT_FALSE(parse_token(swapped)) << "accepted a swap at " << pos;
            std::swap(swapped[pos], swapped[pos + 1]);
        }
    }
}

TEST(TokenFormat, ChecksumIsStandardCrc32OfEverythingBeforeIt) {
    // Fixed example computed independently: CRC-32 (IEEE) of the first 48
    // characters, as leak scanners would compute it.
    const std::string body = "atk_000000000000"
                             "00000000000000000000000000000000";
    EXPECT_TRUE(parse_token(body + "ec6cdec2").has_value()) << "CRC32 mismatch with zlib/IEEE";
    EXPECT_FALSE(parse_token(body + "ec6cdec3").has_value());
}

TEST(TokenFormat, EmbeddedNulIsRejected) {
    std::string valid = generated_text();
    valid[10] = '\0';
    EXPECT_FALSE(parse_token(valid));
}

TEST(TokenId, HexRoundTripAndStrictParsing) {
    const TokenId id = TokenId::random();
    const auto parsed = TokenId::from_hex(id.hex());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, id);
    EXPECT_EQ(TokenId::from_hex("0123456789ab")->hex(), "0123456789ab");
    EXPECT_FALSE(TokenId::from_hex("0123456789AB"));
    EXPECT_FALSE(TokenId::from_hex("0123456789a"));
    EXPECT_FALSE(TokenId::from_hex("0123456789abc"));
    EXPECT_FALSE(TokenId::from_hex("0123456789ag"));
    EXPECT_EQ(TokenId::from_hex("ffffffffffff")->bytes(),
              (TokenId::Bytes{255, 255, 255, 255, 255, 255}));
}

// The store reads ids back from its keys and index values: only exactly the
// 6 bytes of key() make an id.
TEST(TokenId, BytesRoundTripAndExactSize) {
    const TokenId id = TokenId::random();
    EXPECT_EQ(TokenId::from_bytes(id.key()), id);
    EXPECT_EQ(TokenId::from_bytes(std::string("\x01\x23\x45\x67\x89\xab"))->hex(), "0123456789ab");
    EXPECT_FALSE(TokenId::from_bytes(""));
    EXPECT_FALSE(TokenId::from_bytes(id.key().substr(1)));
    EXPECT_FALSE(TokenId::from_bytes(std::string(id.key()) + "x"));
}

TEST(TokenFormat, GenerateWithFixedIdKeepsIdAndDrawsAFreshSecret) {
    const TokenId id = TokenId::random();
    const auto a = generate_token(id);
    const auto b = generate_token(id);
    EXPECT_EQ(parse_token(a.text.view()), id);
    EXPECT_EQ(parse_token(b.text.view()), id);
    EXPECT_NE(a.text.view(), b.text.view());
}

} // namespace
} // namespace apitoken::store
