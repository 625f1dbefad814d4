#include "store/store_error.hpp"
#include "store/token_issuer.hpp"
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>

namespace apitoken::store {
namespace {

TEST(TokenIssuer, IssuedTokenIsStoredOnlyAsItsHashAndAuthenticates) {
    testing::TempDir dir;
    TokenStore store(testing::options_for(dir));
    const TokenRequest request{"alice", 1000, "ci", testing::at(1'900'000'000), {"sshd"}};
    const IssuedToken issued =
        issue_token(store, request, HashParams::defaults(), testing::at(1'800'000'000));

    EXPECT_EQ(parse_token(issued.text.view()), issued.record.id);
    const auto stored = store.find(issued.record.id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(*stored, issued.record);
    EXPECT_EQ(stored->user, "alice");
    EXPECT_EQ(stored->uid, 1000U);
    EXPECT_EQ(stored->created, testing::at(1'800'000'000));
    EXPECT_EQ(stored->expires, testing::at(1'900'000'000));
    EXPECT_EQ(stored->services, std::vector<std::string>{"sshd"});
    EXPECT_EQ(stored->hash.find(std::string(issued.text.view())), std::string::npos);
    EXPECT_TRUE(testing::authenticates(store, "alice", std::string(issued.text.view())));
}

TEST(TokenIssuer, PolicyFieldsOfTheRequestReachTheRecord) {
    TokenRequest request{"alice", 1000, "ci", std::nullopt, {"sshd"}};
    request.description = "uploads";
    request.sources = {"192.0.2.0/24"};
    request.max_uses = 1;
    request.hosts = {"web-*"};
    request.created_by = 0;
    request.rotated_from = TokenId::random();
    const IssuedToken issued = prepare_token(request, HashParams::defaults(), testing::at(5));
    const TokenRecord& r = issued.record;
    EXPECT_EQ(r.description, "uploads");
    EXPECT_EQ(r.sources, request.sources);
    EXPECT_EQ(r.max_uses, 1U);
    EXPECT_EQ(r.hosts, request.hosts);
    EXPECT_EQ(r.created_by, 0U);
    EXPECT_EQ(r.rotated_from, request.rotated_from);
    EXPECT_EQ(r.origin, kOriginApitoken);
    EXPECT_EQ(r.use_count, 0U);
    EXPECT_FALSE(r.rotated());
    EXPECT_TRUE(r.recent_sources.empty());

    request.created_by = 1000;
    request.rotated_from.reset();
    testing::TempDir dir;
    TokenStore store(testing::options_for(dir));
    const IssuedToken stored = issue_token(store, request, HashParams::defaults(), testing::at(5));
    EXPECT_EQ(store.find(stored.record.id), stored.record);
    EXPECT_EQ(store.find(stored.record.id)->created_by, 1000U);
}

TEST(TokenIssuer, StoreRefusalsReachTheCaller) {
    testing::TempDir dir;
    TokenStore store(testing::options_for(dir));
    const TokenRequest request{"alice", 1000, "ci", std::nullopt, {}};
    static_cast<void>(issue_token(store, request, HashParams::defaults(), testing::at(0)));
    try {
        static_cast<void>(issue_token(store, request, HashParams::defaults(), testing::at(0)));
        FAIL() << "a duplicate name was accepted";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::DuplicateName);
    }
    EXPECT_EQ(store.count(), 1U);
}

} // namespace
} // namespace apitoken::store
