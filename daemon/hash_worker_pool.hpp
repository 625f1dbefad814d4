#pragma once

#include "daemon/hash_runner.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

struct sd_event;
struct sd_event_source;

namespace apitoken::daemon {

// Runs Argon2 work off the bus thread. A job is two steps: `work` runs on one
// of a fixed number of worker threads; `done` then runs on the event loop's
// thread (woken through an eventfd), where it may touch the bus and the
// store. At most `capacity` jobs are outstanding (queued, running or done but
// not yet delivered): beyond that try_submit refuses at once, so callers get
// Busy instead of a growing queue.
class HashWorkerPool final : public HashRunner {
public:
    HashWorkerPool(sd_event* event, unsigned threads, std::size_t capacity);
    HashWorkerPool(const HashWorkerPool&) = delete;
    HashWorkerPool& operator=(const HashWorkerPool&) = delete;
    HashWorkerPool(HashWorkerPool&&) = delete;
    HashWorkerPool& operator=(HashWorkerPool&&) = delete;
    // Finishes the queued jobs' work, delivers nothing more, joins the threads.
    ~HashWorkerPool() override;

    [[nodiscard]] bool try_submit(Step work, Step done) override;
    // Runs every `done` that is ready (the event loop does this by itself).
    void deliver_completed();
    // Waits until every outstanding job is done and delivered (for shutdown).
    void drain();
    [[nodiscard]] std::size_t outstanding() const;
    [[nodiscard]] unsigned threads() const noexcept {
        return static_cast<unsigned>(workers_.size());
    }

private:
    struct Job {
        Step work;
        Step done;
    };

    void worker_loop();
    static void run_work(Step work) noexcept;
    static int on_wakeup(sd_event_source* source, int fd, unsigned revents, void* userdata);

    std::size_t capacity_;
    int wakeup_fd_ = -1;
    sd_event_source* wakeup_source_ = nullptr;

    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable progress_; // a job completed or was delivered
    std::deque<Job> queued_;
    std::deque<Step> completed_;
    std::size_t outstanding_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

} // namespace apitoken::daemon
