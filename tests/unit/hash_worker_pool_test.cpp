#include "daemon/hash_worker_pool.hpp"

#include <gtest/gtest.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::daemon {
namespace {

// A lane like a user's own (uid 1000, no requester).
HashLane lane_of_user() {
    return {1000, ""};
}

class HashWorkerPoolTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sd_event_new(&event), 0); }
    void TearDown() override { sd_event_unref(event); }
    sd_event* event = nullptr;
};

TEST_F(HashWorkerPoolTest, WorkRunsOffThreadAndDoneOnTheLoopThread) {
    HashWorkerPool pool(event, 2, 8);
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id work_thread;
    std::thread::id done_thread;
    ASSERT_TRUE(pool.try_submit(
        lane_of_user(), [&] { work_thread = std::this_thread::get_id(); },
        [&] {
            done_thread = std::this_thread::get_id();
            sd_event_exit(event, 0);
        }));
    ASSERT_GE(sd_event_loop(event), 0);
    EXPECT_NE(work_thread, loop_thread);
    EXPECT_EQ(done_thread, loop_thread);
    EXPECT_EQ(pool.outstanding(), 0U);
}

TEST_F(HashWorkerPoolTest, RefusesBeyondCapacityUntilJobsAreDelivered) {
    HashWorkerPool pool(event, 1, 3, 3);
    std::mutex mutex;
    std::condition_variable cv;
    bool release = false;
    const auto blocked_work = [&] {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return release; });
    };
    std::atomic<int> done{0};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(pool.try_submit(lane_of_user(), blocked_work, [&] { ++done; }));
    }
    EXPECT_FALSE(pool.try_submit(
        lane_of_user(), [] {}, [] {}))
        << "the fourth job must be refused";
    EXPECT_EQ(pool.outstanding(), 3U);
    {
        const std::lock_guard lock(mutex);
        release = true;
    }
    cv.notify_all();
    pool.drain();
    EXPECT_EQ(done.load(), 3);
    EXPECT_TRUE(pool.try_submit(
        lane_of_user(), [] {}, [] {}))
        << "room again once delivered";
    pool.drain();
}

// A job that waits until the test opens the gate.
class Gate {
public:
    void open() {
        {
            const std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

TEST_F(HashWorkerPoolTest, LanesTakeTurnsSoAFloodDelaysOthersByOneJob) {
    HashWorkerPool pool(event, 1, 64, 16);
    const HashLane flood{1001, ""};
    const HashLane victim{0, "alice"};
    Gate gate;
    std::mutex order_mutex;
    std::vector<std::string> order;
    const auto job = [&](const std::string& name) {
        return [&, name] {
            const std::lock_guard lock(order_mutex);
            order.push_back(name);
        };
    };
    ASSERT_TRUE(pool.try_submit(
        flood, [&] { gate.wait(); }, [] {})); // occupies the worker
    for (int i = 1; i <= 5; ++i) {
        ASSERT_TRUE(pool.try_submit(flood, job("flood" + std::to_string(i)), [] {}));
    }
    ASSERT_TRUE(pool.try_submit(victim, job("victim"), [] {}));
    gate.open();
    pool.drain();
    // Whether the worker took the gated job before or after the flood was
    // queued, the victim waits behind at most one flood job.
    ASSERT_EQ(order.size(), 6U);
    const auto victim_turn = std::find(order.begin(), order.end(), "victim") - order.begin();
    EXPECT_LE(victim_turn, 1) << "the victim waited behind " << victim_turn << " flood jobs";
}

TEST_F(HashWorkerPoolTest, ALaneGetsItsShareAndNoMore) {
    HashWorkerPool pool(event, 1, 64, 3);
    const HashLane flood{1001, ""};
    Gate gate;
    ASSERT_TRUE(pool.try_submit(
        flood, [&] { gate.wait(); }, [] {}));
    ASSERT_TRUE(pool.try_submit(
        flood, [] {}, [] {}));
    ASSERT_TRUE(pool.try_submit(
        flood, [] {}, [] {}));
    EXPECT_FALSE(pool.try_submit(
        flood, [] {}, [] {}))
        << "the lane's share is 3";
    EXPECT_TRUE(pool.try_submit(
        HashLane{1002, ""}, [] {}, [] {}))
        << "another lane has room";
    gate.open();
    pool.drain();
    EXPECT_TRUE(pool.try_submit(
        flood, [] {}, [] {}))
        << "room again once delivered";
    pool.drain();
}

// A service (root, apitoken-auth) has a lane per requester it reports; with
// requesters from many addresses it still leaves a lane's share of the
// queue, so another caller (sshd's root beside a web app's www-data) gets in.
TEST_F(HashWorkerPoolTest, ACallerLeavesALanesShareOfTheQueueWhateverItsLanes) {
    HashWorkerPool pool(event, 1, 8, 2);
    ASSERT_EQ(pool.caller_share(), 6U);
    Gate gate;
    ASSERT_TRUE(pool.try_submit(
        HashLane{33, "198.51.100.0"}, [&] { gate.wait(); }, [] {}));
    for (int i = 1; i < 6; ++i) {
        EXPECT_TRUE(pool.try_submit(
            HashLane{33, "198.51.100." + std::to_string(i)}, [] {}, [] {}))
            << i;
    }
    EXPECT_FALSE(pool.try_submit(
        HashLane{33, "198.51.100.99"}, [] {}, [] {}))
        << "a seventh job of the same uid took the others' share";
    EXPECT_TRUE(pool.try_submit(
        HashLane{0, "203.0.113.7"}, [] {}, [] {}))
        << "another caller has room";
    EXPECT_TRUE(pool.try_submit(
        HashLane{0, "203.0.113.8"}, [] {}, [] {}))
        << "another caller has a lane's share";
    gate.open();
    pool.drain();
    EXPECT_TRUE(pool.try_submit(
        HashLane{33, "198.51.100.99"}, [] {}, [] {}))
        << "room again once delivered";
    pool.drain();
}

TEST_F(HashWorkerPoolTest, EarlyStartsOnlyOnAnIdleWorker) {
    HashWorkerPool pool(event, 1, 64);
    // The worker thread may not be waiting yet: it is idle once it takes an
    // early start (bounded wait, no timing assumption).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    Gate gate;
    while (!pool.try_start_on_idle_worker([&] { gate.wait(); }, [] {})) {
        ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the worker never became idle";
        std::this_thread::yield();
    }
    EXPECT_FALSE(pool.try_start_on_idle_worker([] {}, [] {})) << "the only worker is busy";
    ASSERT_TRUE(pool.try_submit(
        lane_of_user(), [] {}, [] {}));
    EXPECT_FALSE(pool.try_start_on_idle_worker([] {}, [] {})) << "a queued job waits";
    gate.open();
    pool.drain();
}

} // namespace
} // namespace apitoken::daemon

namespace apitoken::daemon {
namespace {

// Work runs here only when no job is outstanding, and then at most half of
// the time: after work that took d, not again for d. (The pause is checked
// against a sleep, never against a deadline: only its lower bound matters.)
TEST_F(HashWorkerPoolTest, WorkRunsHereOnlyWhenIdleAndAtMostHalfTheTime) {
    HashWorkerPool pool(event, 1, 8);
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id ran_on;
    const HashRunner::Step slow = [&] {
        ran_on = std::this_thread::get_id();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    };
    const auto before = std::chrono::steady_clock::now();
    ASSERT_TRUE(pool.run_here_if_idle(slow));
    const auto took = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(ran_on, loop_thread);
    int count = 0;
    const HashRunner::Step quick = [&] { ++count; };
    // Straight after: refused (unless the machine stalled as long as the work took).
    if (std::chrono::steady_clock::now() - before < 2 * took - std::chrono::milliseconds(50)) {
        EXPECT_FALSE(pool.run_here_if_idle(quick)) << "ran again without a pause";
    }
    std::this_thread::sleep_for(took);
    EXPECT_TRUE(pool.run_here_if_idle(quick));
    EXPECT_EQ(count, 1);

    std::mutex mutex;
    std::condition_variable cv;
    bool release = false;
    ASSERT_TRUE(pool.try_submit(
        lane_of_user(),
        [&] {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return release; });
        },
        [&] { sd_event_exit(event, 0); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(pool.run_here_if_idle(quick)) << "ran here while a job was outstanding";
    {
        const std::lock_guard lock(mutex);
        release = true;
    }
    cv.notify_all();
    ASSERT_GE(sd_event_loop(event), 0);
    EXPECT_EQ(count, 1);
}

} // namespace
} // namespace apitoken::daemon
