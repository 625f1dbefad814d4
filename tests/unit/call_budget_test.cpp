#include "daemon/call_budget.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace apitoken::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = CallBudget::Clock;

TEST(CallBudget, SpendsUpToTheCapacityThenRefusesWithoutSpending) {
    CallBudget budget(100, 600s);
    const Clock::time_point t0{};
    EXPECT_TRUE(budget.try_spend(1000, 60, t0));
    EXPECT_FALSE(budget.try_spend(1000, 41, t0)) << "over what is left";
    EXPECT_TRUE(budget.try_spend(1000, 40, t0)) << "a refused call spent nothing";
    EXPECT_FALSE(budget.try_spend(1000, 1, t0));
}

TEST(CallBudget, RefillsEvenlyOverThePeriodUpToTheCapacity) {
    CallBudget budget(100, 100s);
    const Clock::time_point t0{};
    ASSERT_TRUE(budget.try_spend(1000, 100, t0));
    EXPECT_FALSE(budget.try_spend(1000, 11, t0 + 10s));
    EXPECT_TRUE(budget.try_spend(1000, 10, t0 + 10s));
    EXPECT_FALSE(budget.try_spend(1000, 101, t0 + 1000s)) << "never above the capacity";
    EXPECT_TRUE(budget.try_spend(1000, 100, t0 + 1000s));
}

TEST(CallBudget, EachUidHasItsOwnBudget) {
    CallBudget budget(10, 600s);
    const Clock::time_point t0{};
    ASSERT_TRUE(budget.try_spend(1000, 10, t0));
    EXPECT_FALSE(budget.try_spend(1000, 1, t0));
    EXPECT_TRUE(budget.try_spend(1001, 10, t0)) << "another uid pays for the first";
}

TEST(CallBudget, KeepsAtMostMaxCallersForgettingTheLeastRecent) {
    CallBudget budget(10, 600s, 3);
    const Clock::time_point t0{};
    for (uid_t uid = 1; uid <= 3; ++uid) {
        ASSERT_TRUE(budget.try_spend(uid, 10, t0 + std::chrono::seconds(uid)));
    }
    ASSERT_TRUE(budget.try_spend(4, 10, t0 + 4s));
    EXPECT_EQ(budget.tracked_callers(), 3U);
    EXPECT_TRUE(budget.try_spend(1, 10, t0 + 5s)) << "uid 1 was forgotten: a full budget again";
    EXPECT_FALSE(budget.try_spend(4, 10, t0 + 5s)) << "uid 4 was not";
}

} // namespace
} // namespace apitoken::daemon
