#include "store/secret_buffer.hpp"
#include "store/secret_slab.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

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

TEST(SecretBuffer, ATokenSizedSecretTakesASlabSlotAndGivesItBackWiped) {
    SecretSlab& slab = SecretSlab::instance();
    const std::size_t before = slab.available();
    const char* slot = nullptr;
    {
        const SecretBuffer token(std::string(56, 'x'));
        slot = token.data();
        EXPECT_TRUE(slab.owns(slot));
        EXPECT_EQ(slab.available(), before - 1);
    }
    EXPECT_EQ(slab.available(), before);
    // The slot is free again: reading it is reading our own locked region.
    for (std::size_t i = 0; i < SecretSlab::kSlotSize; ++i) {
        EXPECT_EQ(slot[i], '\0') << "byte " << i << " of a returned slot was not wiped";
    }
}

TEST(SecretBuffer, LargerSecretsAndAFullSlabFallBackToTheirOwnAllocation) {
    SecretSlab& slab = SecretSlab::instance();
    const SecretBuffer large(SecretSlab::kSlotSize + 1);
    EXPECT_FALSE(slab.owns(large.data()));

    std::vector<SecretBuffer> all;
    all.reserve(SecretSlab::kSlotCount + 1);
    while (slab.available() > 0) {
        all.emplace_back(std::string_view("taken"));
    }
    const SecretBuffer overflow(std::string_view("still works"));
    EXPECT_FALSE(slab.owns(overflow.data()));
    EXPECT_EQ(overflow.view(), "still works");
    all.clear();
    EXPECT_EQ(slab.available(), SecretSlab::kSlotCount);
}

TEST(SecretBuffer, SlotsMayBeTakenAndReturnedOnManyThreads) {
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t] {
            const std::string text(40, static_cast<char>('a' + t));
            for (int i = 0; i < 20000; ++i) {
                const SecretBuffer buffer(text);
                ASSERT_EQ(buffer.view(), text); // nobody else wrote into our slot
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(SecretSlab::instance().available(), SecretSlab::kSlotCount);
}

} // namespace
} // namespace apitoken::store
