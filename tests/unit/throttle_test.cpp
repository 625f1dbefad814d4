#include "daemon/throttle.hpp"

#include <gtest/gtest.h>

namespace apitoken::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = Throttle::Clock;

ThrottleSource guesser() {
    return {33, "198.51.100.9", "alice"};
}

TEST(Throttle, BlocksASourceAfterMaxFailuresWithinTheWindow) {
    Throttle throttle(3, 60s);
    const auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(throttle.blocked(guesser(), t0)) << "after " << i << " failures";
        throttle.record_failure(guesser(), t0 + std::chrono::seconds(i));
    }
    EXPECT_TRUE(throttle.blocked(guesser(), t0 + 10s));
    EXPECT_TRUE(throttle.blocked(guesser(), t0 + 59s));
    EXPECT_FALSE(throttle.blocked(guesser(), t0 + 60s)) << "the window has passed";
}

TEST(Throttle, OtherSourcesOfTheSameUserAreNotBlocked) {
    Throttle throttle(2, 60s);
    const auto now = Clock::now();
    throttle.record_failure(guesser(), now);
    throttle.record_failure(guesser(), now);
    ASSERT_TRUE(throttle.blocked(guesser(), now));
    EXPECT_FALSE(throttle.blocked({33, "192.0.2.5", "alice"}, now)) << "another host";
    EXPECT_FALSE(throttle.blocked({1000, "198.51.100.9", "alice"}, now)) << "another caller";
    EXPECT_FALSE(throttle.blocked({33, "198.51.100.9", "bob"}, now)) << "another user";
}

TEST(Throttle, FailuresSpreadOverWindowsDoNotAccumulate) {
    Throttle throttle(2, 10s);
    const auto t0 = Clock::now();
    throttle.record_failure(guesser(), t0);
    throttle.record_failure(guesser(), t0 + 11s); // a new window: count restarts
    EXPECT_FALSE(throttle.blocked(guesser(), t0 + 12s));
}

TEST(Throttle, SuccessClearsTheSource) {
    Throttle throttle(2, 60s);
    const auto now = Clock::now();
    throttle.record_failure(guesser(), now);
    throttle.record_success(guesser());
    throttle.record_failure(guesser(), now);
    EXPECT_FALSE(throttle.blocked(guesser(), now));
}

TEST(Throttle, TrackedSourcesAreBounded) {
    Throttle throttle(1, 60s, 100);
    const auto now = Clock::now();
    for (int i = 0; i < 10'000; ++i) {
        throttle.record_failure({static_cast<uid_t>(i), "h", "u"},
                                now + std::chrono::milliseconds(i));
    }
    EXPECT_LE(throttle.tracked_sources(), 100U);
    EXPECT_TRUE(throttle.blocked({9'999, "h", "u"}, now + 10s)) << "the newest are kept";
}

} // namespace
} // namespace apitoken::daemon
