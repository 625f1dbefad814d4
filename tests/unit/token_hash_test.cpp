#include "store/token_format.hpp"
#include "store/token_hash.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <stdexcept>
#include <string>

namespace apitoken::store {
namespace {

TEST(TokenHash, HashIsArgon2idWithConfiguredParametersAndVerifies) {
    const auto token = generate_token();
    const std::string hash = hash_token(token.text.view(), HashParams::defaults());
    EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << hash;
    EXPECT_EQ(hash.find(std::string(token.text.view().substr(16))), std::string::npos)
        << "the secret must not appear in the hash string";
    EXPECT_TRUE(verify_token(hash, token.text.view()));
}

TEST(TokenHash, WrongOrAlteredTokenDoesNotVerify) {
    const auto token = generate_token();
    const std::string hash = hash_token(token.text.view(), HashParams::defaults());
    const auto other = generate_token(token.id);
    EXPECT_FALSE(verify_token(hash, other.text.view()));
    EXPECT_FALSE(verify_token(hash, ""));
    EXPECT_FALSE(verify_token(hash, token.text.view().substr(0, kTokenLength - 1)));
}

TEST(TokenHash, SameTokenHashesDifferentlyEachTime) {
    const auto token = generate_token();
    EXPECT_NE(hash_token(token.text.view(), HashParams::defaults()),
              hash_token(token.text.view(), HashParams::defaults()));
}

TEST(TokenHash, RefusesHashesThatAreNotArgon2id) {
    const auto token = generate_token();
    char argon2i[crypto_pwhash_STRBYTES];
    ASSERT_EQ(crypto_pwhash_str_alg(argon2i, token.text.data(), token.text.size(), 3, 8192,
                                    crypto_pwhash_ALG_ARGON2I13),
              0);
    EXPECT_FALSE(verify_token(argon2i, token.text.view()));
    EXPECT_FALSE(verify_token("", token.text.view()));
    EXPECT_FALSE(verify_token(std::string(kArgon2idPrefix) + "garbage", token.text.view()));
}

TEST(TokenHash, NeedsRehashWhenParametersChange) {
    const auto token = generate_token();
    const HashParams defaults = HashParams::defaults();
    const std::string hash = hash_token(token.text.view(), defaults);
    EXPECT_FALSE(needs_rehash(hash, defaults));
    EXPECT_TRUE(needs_rehash(hash, {defaults.opslimit + 1, defaults.memlimit}));
    EXPECT_TRUE(needs_rehash(hash, {defaults.opslimit, defaults.memlimit * 2}));
    EXPECT_TRUE(needs_rehash("not a hash", defaults));

    // The caller's re-hash on a successful verify: the new hash verifies the
    // same token and no longer needs re-hashing.
    const HashParams stronger{2, defaults.memlimit * 2};
    const std::string rehashed = hash_token(token.text.view(), stronger);
    EXPECT_TRUE(verify_token(rehashed, token.text.view()));
    EXPECT_FALSE(needs_rehash(rehashed, stronger));
    EXPECT_TRUE(needs_rehash(rehashed, defaults));
}

TEST(TokenHash, ParametersOutsideLibsodiumLimitsAreRefused) {
    EXPECT_THROW((HashParams{0, HashParams::defaults().memlimit}.validate()),
                 std::invalid_argument);
    EXPECT_THROW((HashParams{1, 1024}.validate()), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(hash_token("x", HashParams{0, 1024})), std::invalid_argument);
    EXPECT_NO_THROW(HashParams::defaults().validate());
    EXPECT_NO_THROW(HashParams::interactive().validate());
}

} // namespace
} // namespace apitoken::store
