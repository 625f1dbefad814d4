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
