#include "store/secret_buffer.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace apitoken::store {
namespace {

TEST(SecretBuffer, HoldsACopyOfTheText) {
    const SecretBuffer buffer(std::string_view("s3cret"));
    EXPECT_EQ(buffer.view(), "s3cret");
    EXPECT_EQ(buffer.size(), 6U);
}

TEST(SecretBuffer, MoveLeavesTheSourceEmpty) {
    SecretBuffer a(std::string_view("abc"));
    SecretBuffer b(std::move(a));
    // Inspecting the moved-from buffer is the point of this test.
    EXPECT_TRUE(a.empty());       // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_EQ(a.data(), nullptr); // NOLINT(clang-analyzer-cplusplus.Move)
    EXPECT_EQ(b.view(), "abc");
    SecretBuffer c(std::string_view("xyz"));
    c = std::move(b);
    EXPECT_EQ(c.view(), "abc");
}

TEST(SecretBuffer, EmptyBufferAllocatesNothing) {
    const SecretBuffer empty(0);
    EXPECT_EQ(empty.data(), nullptr);
    EXPECT_TRUE(empty.view().empty());
}

} // namespace
} // namespace apitoken::store
