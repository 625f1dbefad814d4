// What the store keeps of deleted tokens (schema 4's `revoked` table), for
// leak scans: a revoked token must not look like one that never existed.
#include "store/gone_token.hpp"
#include "store/token_store.hpp"
#include "tests/support/record_fixture.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::store {
namespace {

using testing::at;
using testing::make_token;
using testing::TempDir;
using testing::TestToken;

TEST(GoneTokenCodec, RoundTripsAndRefusesWhatItDidNotWrite) {
    const GoneToken gone{.reason = GoneReason::Expired,
                         .user = "alice",
                         .uid = 61001,
                         .name = "ci-upload",
                         .when = at(1'800'000'000)};
    const std::string bytes = encode_gone_token(gone);
    EXPECT_EQ(decode_gone_token(bytes), gone);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        EXPECT_FALSE(decode_gone_token(bytes.substr(0, cut))) << "truncated at " << cut;
    }
    EXPECT_FALSE(decode_gone_token(bytes + "x")) << "trailing bytes";
    std::string bad_reason = bytes;
    bad_reason[1] = 7;
    EXPECT_FALSE(decode_gone_token(bad_reason));
    std::string bad_format = bytes;
    bad_format[0] = 2;
    EXPECT_FALSE(decode_gone_token(bad_format));
}

TEST(GoneTokenCodec, TheReasonIsExpiredOnlyForATokenPastItsExpiry) {
    TokenRecord record = make_token("alice", "t").record;
    EXPECT_EQ(gone_token_of(record, at(5'000)).reason, GoneReason::Revoked);
    record.expires = at(6'000);
    EXPECT_EQ(gone_token_of(record, at(5'000)).reason, GoneReason::Revoked);
    EXPECT_EQ(gone_token_of(record, at(6'000)).reason, GoneReason::Expired);
}

class GoneTokenStoreTest : public ::testing::Test {
protected:
    TempDir dir;
    StoreOptions options = testing::options_for(dir);
    std::optional<TokenStore> store{std::in_place, options};
};

TEST_F(GoneTokenStoreTest, EveryWayATokenLeavesLeavesItsTombstone) {
    const TestToken revoked = make_token("alice", "revoked");
    const TestToken all = make_token("bob", "all");
    TestToken expired = make_token("alice", "expired");
    expired.record.expires = at(2'000);
    const TestToken rotated = make_token("alice", "rotated");
    const TestToken live = make_token("alice", "live");
    for (const TestToken* t :
         {&revoked, &all, static_cast<const TestToken*>(&expired), &rotated, &live}) {
        store->create(t->record);
    }
    EXPECT_FALSE(store->find_gone(revoked.record.id)) << "no tombstone before the deletion";

    store->revoke("alice", revoked.record.id);
    store->revoke_all("bob");
    EXPECT_EQ(store->purge_expired(at(10'000), std::chrono::seconds{0}), 1U);
    TokenRecord successor = make_token("alice", "rotated").record;
    successor.rotated_from = rotated.record.id;
    store->rotate("alice", rotated.record.id, successor, std::nullopt);

    const auto gone = [&](const TestToken& t) { return store->find_gone(t.record.id); };
    ASSERT_TRUE(gone(revoked));
    EXPECT_EQ(gone(revoked)->reason, GoneReason::Revoked);
    EXPECT_EQ(gone(revoked)->user, "alice");
    EXPECT_EQ(gone(revoked)->uid, revoked.record.uid);
    EXPECT_EQ(gone(revoked)->name, "revoked");
    ASSERT_TRUE(gone(all));
    EXPECT_EQ(gone(all)->user, "bob");
    ASSERT_TRUE(gone(expired));
    EXPECT_EQ(gone(expired)->reason, GoneReason::Expired);
    ASSERT_TRUE(gone(rotated));
    EXPECT_EQ(gone(rotated)->reason, GoneReason::Revoked);
    EXPECT_FALSE(gone(live)) << "a live token has no tombstone";
    EXPECT_FALSE(store->find_gone(TokenId::random())) << "an id never seen";

    store.reset();
    store.emplace(options);
    EXPECT_EQ(store->find_gone(revoked.record.id)->name, "revoked") << "kept across a reopen";
}

TEST_F(GoneTokenStoreTest, EachUserKeepsOnlyTheirLastTombstones) {
    options.max_tokens_per_user = 2;
    store.reset();
    store.emplace(options);
    const std::size_t kept = gone_tokens_kept(options);
    std::vector<TokenId> ids;
    for (std::size_t i = 0; i < kept + 4; ++i) {
        TokenRecord record = make_token("alice", "churn").record;
        store->create(record);
        store->revoke("alice", record.id);
        ids.push_back(record.id);
    }
    const TestToken bobs = make_token("bob", "one");
    store->create(bobs.record);
    store->revoke("bob", bobs.record.id);
    std::size_t remembered = 0;
    for (const auto& id : ids) {
        remembered += store->find_gone(id) ? 1U : 0U;
    }
    EXPECT_EQ(remembered, kept) << "one user's churn grows the store without end";
    EXPECT_TRUE(store->find_gone(bobs.record.id)) << "another user's tombstone went too";
}

} // namespace
} // namespace apitoken::store
