#include "daemon/hash_worker_pool.hpp"

#include <gtest/gtest.h>
#include <systemd/sd-event.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace apitoken::daemon {
namespace {

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
    ASSERT_TRUE(pool.try_submit([&] { work_thread = std::this_thread::get_id(); },
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
    HashWorkerPool pool(event, 1, 3);
    std::mutex mutex;
    std::condition_variable cv;
    bool release = false;
    const auto blocked_work = [&] {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return release; });
    };
    std::atomic<int> done{0};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(pool.try_submit(blocked_work, [&] { ++done; }));
    }
    EXPECT_FALSE(pool.try_submit([] {}, [] {})) << "the fourth job must be refused";
    EXPECT_EQ(pool.outstanding(), 3U);
    {
        const std::lock_guard lock(mutex);
        release = true;
    }
    cv.notify_all();
    pool.drain();
    EXPECT_EQ(done.load(), 3);
    EXPECT_TRUE(pool.try_submit([] {}, [] {})) << "room again once delivered";
    pool.drain();
}

} // namespace
} // namespace apitoken::daemon
