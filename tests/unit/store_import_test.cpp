// Importing foreign (Jenkins) tokens into the store: the SHA-256 Jenkins
// kept, checked like Jenkins checks it; one transaction per account; each
// foreign token at most once, ever; names made unique.
#include "contract/token_shape.hpp"
#include "store/imported_hash.hpp"
#include "store/store_error.hpp"
#include "store/token_hash.hpp"
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::store {
namespace {

using testing::TempDir;

// The known vector of issue 15: the token 11 + 32 hex, SHA-256 of the hex.
constexpr std::string_view kJenkinsToken = "1147c3b70068c7b5573342ebb6ddc7f6ae";
constexpr std::string_view kJenkinsSha256 =
    "ff550856862dbee0eb2534d03d4cd9b7a71b2ca35a53e1c1876b4eccfc1e627f";

TokenRecord imported(const std::string& uuid, const std::string& name, uid_t uid = 1000) {
    TokenRecord record;
    record.id = TokenId::random();
    record.user = "alice";
    record.uid = uid;
    record.name = name;
    record.hash = jenkins_hash_from_hex(kJenkinsSha256);
    record.origin = kOriginJenkins;
    record.origin_id = uuid;
    return record;
}

class StoreImportTest : public ::testing::Test {
protected:
    TempDir dir;
    StoreOptions options = testing::options_for(dir);
    std::optional<TokenStore> store{std::in_place, options};
};

TEST(ImportedHash, MatchesJenkinsKnownVectorTheWayJenkinsDoes) {
    const std::string hash = jenkins_hash_from_hex(kJenkinsSha256);
    ASSERT_TRUE(is_jenkins_hash(hash));
    EXPECT_EQ(jenkins_secret(kJenkinsToken), kJenkinsToken.substr(2));
    EXPECT_TRUE(verify_imported(hash, jenkins_secret(kJenkinsToken)));
    // Jenkins hashes the 32 hex characters alone: they match by themselves.
    EXPECT_TRUE(verify_imported(hash, jenkins_secret(kJenkinsToken.substr(2))));
    std::string wrong(kJenkinsToken);
    wrong.back() = wrong.back() == 'e' ? 'f' : 'e';
    EXPECT_FALSE(verify_imported(hash, jenkins_secret(wrong)));
    EXPECT_FALSE(verify_imported(hash, ""));
}

TEST(ImportedHash, OnlyTheExactShapesCount) {
    EXPECT_TRUE(has_jenkins_token_shape(kJenkinsToken));
    EXPECT_TRUE(has_jenkins_token_shape(kJenkinsToken.substr(2)));
    EXPECT_FALSE(has_jenkins_token_shape("10" + std::string(kJenkinsToken.substr(2))));
    EXPECT_FALSE(has_jenkins_token_shape("1147C3B70068C7B5573342EBB6DDC7F6AE"));
    EXPECT_FALSE(has_jenkins_token_shape(kJenkinsToken.substr(1)));
    EXPECT_FALSE(has_jenkins_token_shape(""));
    EXPECT_TRUE(jenkins_secret("not a token").empty());
    EXPECT_TRUE(jenkins_hash_from_hex("FF" + std::string(kJenkinsSha256.substr(2))).empty());
    EXPECT_TRUE(jenkins_hash_from_hex(kJenkinsSha256.substr(1)).empty());
    EXPECT_FALSE(is_jenkins_hash("$argon2id$v=19$m=65536,t=1,p=1$abc$def"));
}

TEST(ImportedHash, AnArgon2idReplacementMatchesTheSameSecret) {
    const std::string secret(jenkins_secret(kJenkinsToken));
    const std::string hash = hash_token(secret, HashParams::defaults());
    EXPECT_TRUE(verify_imported(hash, secret));
    EXPECT_FALSE(verify_imported(hash, std::string(32, 'a')));
}

TEST(ImportedHash, ReHashesOfOneAccountShareASaltSoAGuessCostsOneRun) {
    const HashParams params = HashParams::defaults();
    const std::string secret(jenkins_secret(kJenkinsToken));
    const std::string other(32, 'a');
    const std::string mine = hash_imported(secret, "alice", 1000, params);
    // libsodium's own format: the ordinary verify reads it.
    EXPECT_TRUE(verify_token(mine, secret));
    EXPECT_FALSE(verify_token(mine, other));
    EXPECT_FALSE(imported_needs_rehash(mine, "alice", 1000, params));
    EXPECT_TRUE(imported_needs_rehash(mine, "alice", 1001, params)) << "another account's salt";
    EXPECT_TRUE(imported_needs_rehash(mine, "bob", 1000, params));
    EXPECT_TRUE(
        imported_needs_rehash(jenkins_hash_from_hex(kJenkinsSha256), "alice", 1000, params));
    EXPECT_TRUE(imported_needs_rehash(hash_token(secret, params), "alice", 1000, params))
        << "a random salt";
    EXPECT_TRUE(imported_needs_rehash(mine, "alice", 1000, HashParams{2, params.memlimit}));

    std::vector<std::string> hashes;
    hashes.reserve(8);
    for (int i = 0; i < 6; ++i) {
        hashes.push_back(
            hash_imported(std::string(31, 'b') + char('0' + i), "alice", 1000, params));
    }
    hashes.push_back(jenkins_hash_from_hex(kJenkinsSha256));
    hashes.push_back(mine);
    ImportedMatch match = match_imported(hashes, secret);
    EXPECT_EQ(match.argon2_runs, 1U) << "one Argon2id run for the whole account";
    ASSERT_TRUE(match.index);
    EXPECT_EQ(*match.index, 6U) << "the first that matches: the SHA-256";
    match = match_imported(hashes, std::string(31, 'b') + '3');
    EXPECT_EQ(match.index, std::optional<std::size_t>(3));
    match = match_imported(hashes, other);
    EXPECT_FALSE(match.index);
    EXPECT_EQ(match.argon2_runs, 1U);
    EXPECT_EQ(match_imported({jenkins_hash_from_hex(kJenkinsSha256)}, other).argon2_runs, 0U);
}

TEST_F(StoreImportTest, ImportsKeepTheJenkinsHashAndTheRecord) {
    TokenRecord one = imported("uuid-1", "ci");
    one.use_count = 7;
    const auto outcomes = store->import_tokens({&one, 1}, false);
    ASSERT_EQ(outcomes.size(), 1U);
    EXPECT_TRUE(outcomes[0].imported);
    EXPECT_EQ(outcomes[0].id, one.id);
    EXPECT_EQ(outcomes[0].name, "ci");
    const auto found = store->find(one.id);
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, one);
}

TEST_F(StoreImportTest, TheSameForeignTokenIsNeverImportedTwiceEvenAfterARevoke) {
    const TokenRecord one = imported("uuid-1", "ci");
    ASSERT_TRUE(store->import_tokens({&one, 1}, false).at(0).imported);
    const TokenRecord again = imported("uuid-1", "ci");
    auto second = store->import_tokens({&again, 1}, false);
    ASSERT_EQ(second.size(), 1U);
    EXPECT_FALSE(second[0].imported);
    EXPECT_EQ(second[0].id, one.id);
    EXPECT_EQ(second[0].name, "ci");
    EXPECT_EQ(store->count("alice"), 1U);

    store->revoke("alice", one.id);
    second = store->import_tokens({&again, 1}, false);
    EXPECT_FALSE(second.at(0).imported);
    EXPECT_EQ(second[0].name, "") << "gone, and not brought back";
    EXPECT_EQ(store->count("alice"), 0U);
    // Also across a reopen (the memory is on disk).
    store.reset();
    store.emplace(options);
    EXPECT_FALSE(store->import_tokens({&again, 1}, false).at(0).imported);
}

TEST_F(StoreImportTest, ClashingAndUnusableNamesAreMadeUnique) {
    TokenRecord native = imported("x", "ci");
    native.origin = kOriginApitoken;
    native.origin_id.clear();
    native.hash = hash_token("x", HashParams::defaults());
    store->create(native);
    const std::vector<TokenRecord> batch{imported("u-1", "ci"), imported("u-2", "ci"),
                                         imported("abcdef012345", "bad\nname"),
                                         imported("u-4", std::string(70, 'n'))};
    const auto outcomes = store->import_tokens(batch, false);
    ASSERT_EQ(outcomes.size(), 4U);
    EXPECT_EQ(outcomes[0].name, "ci (2)");
    EXPECT_EQ(outcomes[1].name, "ci (3)");
    EXPECT_EQ(outcomes[2].name, "jenkins-abcdef01");
    EXPECT_EQ(outcomes[3].name, "jenkins-u-4");
    for (const auto& outcome : outcomes) {
        EXPECT_EQ(store->find(outcome.id)->name, outcome.name);
    }
}

TEST_F(StoreImportTest, AllOrNothingAndTheMaximumHolds) {
    options.max_tokens_per_user = 2;
    store.reset();
    store.emplace(options);
    const std::vector<TokenRecord> batch{imported("u-1", "a"), imported("u-2", "b"),
                                         imported("u-3", "c")};
    try {
        static_cast<void>(store->import_tokens(batch, false));
        ADD_FAILURE() << "three tokens went into room for two";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::TooManyTokens);
    }
    EXPECT_EQ(store->count("alice"), 0U) << "half imported";
    // Not remembered either: a later run with room imports them.
    const std::vector<TokenRecord> two{batch[0], batch[1]};
    EXPECT_TRUE(store->import_tokens(two, false).at(1).imported);
}

TEST_F(StoreImportTest, ADryRunAnswersAndWritesNothing) {
    const TokenRecord one = imported("uuid-1", "ci");
    const auto outcomes = store->import_tokens({&one, 1}, true);
    ASSERT_EQ(outcomes.size(), 1U);
    EXPECT_TRUE(outcomes[0].imported);
    EXPECT_EQ(store->count("alice"), 0U);
    EXPECT_TRUE(store->import_tokens({&one, 1}, false).at(0).imported);
}

TEST_F(StoreImportTest, OnlyImportedTokensMayKeepAForeignHashAndOneAccountPerCall) {
    TokenRecord native = imported("u-1", "ci");
    native.origin = kOriginApitoken;
    EXPECT_THROW(store->create(native), StoreError);
    TokenRecord planted = imported("u-2", "x");
    planted.hash = "$jenkins-sha256$" + std::string(64, 'G');
    EXPECT_THROW(static_cast<void>(store->import_tokens({&planted, 1}, false)), StoreError);
    TokenRecord unnameable = imported("\x01\x02", "\x7f");
    EXPECT_THROW(static_cast<void>(store->import_tokens({&unnameable, 1}, false)), StoreError);
    TokenRecord no_origin_id = imported("", "y");
    EXPECT_THROW(static_cast<void>(store->import_tokens({&no_origin_id, 1}, false)), StoreError);
    TokenRecord bob = imported("u-3", "z");
    bob.user = "bob";
    const std::vector<TokenRecord> mixed{imported("u-4", "w"), bob};
    EXPECT_THROW(static_cast<void>(store->import_tokens(mixed, false)), StoreError);
    EXPECT_EQ(store->count("alice"), 0U);
}

TEST_F(StoreImportTest, ReplaceHashTurnsTheJenkinsHashIntoArgon2id) {
    const TokenRecord one = imported("uuid-1", "ci");
    ASSERT_TRUE(store->import_tokens({&one, 1}, false).at(0).imported);
    const std::string argon2 = hash_token(jenkins_secret(kJenkinsToken), HashParams::defaults());
    EXPECT_TRUE(store->replace_hash(one.id, one.hash, argon2));
    EXPECT_EQ(store->find(one.id)->hash, argon2);
    EXPECT_TRUE(verify_imported(store->find(one.id)->hash, jenkins_secret(kJenkinsToken)));
}

} // namespace
} // namespace apitoken::store
