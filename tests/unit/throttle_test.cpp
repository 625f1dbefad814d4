#include "daemon/throttle.hpp"

#include <gtest/gtest.h>

namespace apitoken::daemon {
namespace {

ThrottleSource source(uid_t caller, std::string user, std::string rhost) {
    ThrottleSource s;
    s.caller_uid = caller;
    s.user = std::move(user);
    s.rhost = std::move(rhost);
    return s;
}

using namespace std::chrono_literals;
using Clock = Throttle::Clock;

ThrottleSource guesser() {
    return source(33, "alice", "198.51.100.9");
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
    EXPECT_FALSE(throttle.blocked(source(33, "alice", "192.0.2.5"), now)) << "another host";
    EXPECT_FALSE(throttle.blocked(source(1000, "alice", "198.51.100.9"), now)) << "another caller";
    EXPECT_FALSE(throttle.blocked(source(33, "bob", "198.51.100.9"), now)) << "another user";
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
        throttle.record_failure(source(static_cast<uid_t>(i), "u", "h"),
                                now + std::chrono::milliseconds(i));
    }
    EXPECT_LE(throttle.tracked_sources(), 100U);
    EXPECT_TRUE(throttle.blocked(source(9'999, "u", "h"), now + 10s)) << "the newest are kept";
}

TEST(Throttle, LocalRequestersThroughOneSetuidServiceAreSeparateSources) {
    // su as root: no rhost, so the service and who runs it tell sources apart.
    ThrottleSource attacker = source(0, "alice", "");
    attacker.service = "su";
    attacker.ruser = "mallory";
    attacker.requester_uid = 1001;
    Throttle throttle(3, 60s);
    const auto now = Clock::now();
    for (int i = 0; i < 3; ++i) {
        throttle.record_failure(attacker, now);
    }
    EXPECT_TRUE(throttle.blocked(attacker, now));
    ThrottleSource owner = attacker;
    owner.ruser = "alice";
    owner.requester_uid = 1000;
    EXPECT_FALSE(throttle.blocked(owner, now)) << "the owner running su";
    ThrottleSource other_service = attacker;
    other_service.service = "sshd";
    EXPECT_FALSE(throttle.blocked(other_service, now)) << "another service";
    ThrottleSource other_uid = attacker;
    other_uid.requester_uid = 1002;
    EXPECT_FALSE(throttle.blocked(other_uid, now)) << "another local user";
}

TEST(Throttle, AnyBlockedForAUserFollowsTheWindowAndSuccess) {
    Throttle throttle(2, 10s);
    const auto t0 = Clock::now();
    EXPECT_FALSE(throttle.any_blocked_for("alice", t0));
    throttle.record_failure(guesser(), t0);
    EXPECT_FALSE(throttle.any_blocked_for("alice", t0)) << "one failure is not a block";
    throttle.record_failure(guesser(), t0);
    EXPECT_TRUE(throttle.any_blocked_for("alice", t0));
    EXPECT_FALSE(throttle.any_blocked_for("bob", t0));
    EXPECT_FALSE(throttle.any_blocked_for("alice", t0 + 11s)) << "the window has passed";
    EXPECT_EQ(throttle.tracked_sources(), 0U) << "expired sources are forgotten";
    throttle.record_failure(guesser(), t0 + 12s);
    throttle.record_failure(guesser(), t0 + 12s);
    throttle.record_success(guesser());
    EXPECT_FALSE(throttle.any_blocked_for("alice", t0 + 12s)) << "a success clears it";
}

} // namespace
} // namespace apitoken::daemon
