#pragma once

#include "contract/unique_fd.hpp"
#include "daemon/hash_runner.hpp"
#include "ipc/sd_handles.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

struct sd_event;
struct sd_event_source;

namespace apitoken::daemon {

// Runs Argon2 work off the bus thread. A job is two steps: `work` runs on one
// of a fixed number of worker threads; `done` then runs on the event loop's
// thread (woken through an eventfd), where it may touch the bus and the
// store. At most `capacity` jobs are outstanding (queued, running or done but
// not yet delivered), at most `lane_share` of them in one lane, and one
// calling uid, whatever its lanes (a service relaying requesters from many
// addresses has a lane for each), leaves a lane's share to the others:
// beyond that try_submit refuses at once, so callers get Busy instead of a
// growing queue. (Half the queue per uid made a service's own flood cheaper
// to mount: 4 requesters instead of 8 filled it.) Workers take the lanes' jobs in turn (round
// robin), so a lane with a thousand calls waiting delays another lane's call by at most one job per
// worker.
class HashWorkerPool final : public HashRunner {
public:
    // lane_share 0: an eighth of the capacity, but at least two per worker.
    HashWorkerPool(sd_event* event, unsigned threads, std::size_t capacity,
                   std::size_t lane_share = 0);
    HashWorkerPool(const HashWorkerPool&) = delete;
    HashWorkerPool& operator=(const HashWorkerPool&) = delete;
    HashWorkerPool(HashWorkerPool&&) = delete;
    HashWorkerPool& operator=(HashWorkerPool&&) = delete;
    // Finishes the queued jobs' work, delivers nothing more, joins the threads.
    ~HashWorkerPool() override;

    [[nodiscard]] bool try_submit(const HashLane& lane, Step work, Step done) override;
    [[nodiscard]] bool try_start_on_idle_worker(Step work, Step done) override;
    [[nodiscard]] bool run_here_if_idle(const Step& work) override;
    void after_completions(Step step) override;
    // Runs every `done` that is ready (the event loop does this by itself).
    void deliver_completed();
    // Waits until every outstanding job is done and delivered (for shutdown).
    void drain();
    [[nodiscard]] std::size_t outstanding() const;
    [[nodiscard]] std::size_t lane_share() const noexcept { return lane_share_; }
    [[nodiscard]] std::size_t caller_share() const noexcept { return caller_share_; }
    // Whether threads may change their nice value here (a system-call
    // filter may forbid it); the workers lower theirs when they can.
    [[nodiscard]] static bool priority_adjustable();
    [[nodiscard]] unsigned threads() const noexcept {
        return static_cast<unsigned>(workers_.size());
    }

private:
    struct Job {
        Step work;
        Step done;
        std::optional<HashLane> lane; // none: started on an idle worker
    };

    void worker_loop();
    void stop_workers() noexcept;
    [[nodiscard]] Job next_job(); // with mutex_ held and a job waiting
    static void run_work(Step work) noexcept;
    static int on_wakeup(sd_event_source* source, int fd, unsigned revents, void* userdata);

    std::size_t capacity_;
    std::size_t lane_share_;
    std::size_t caller_share_;
    UniqueFd wakeup_fd_;
    ipc::EventSourcePtr wakeup_source_; // after the fd: gone before it closes

    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable progress_;          // a job completed or was delivered
    std::deque<Job> on_idle_;                   // taken first; only ever for idle workers
    std::map<HashLane, std::deque<Job>> lanes_; // queued jobs, per lane
    std::deque<HashLane> turns_;                // lanes with queued jobs, in turn
    std::map<HashLane, std::size_t> per_lane_;  // outstanding jobs per lane
    std::map<uid_t, std::size_t> per_caller_;   // and per calling uid
    std::deque<Job> completed_;
    // Loop thread only: deliver_completed() is running; what runs after it.
    bool delivering_ = false;
    std::vector<Step> after_delivery_;
    std::size_t outstanding_ = 0;
    std::size_t queued_ = 0; // waiting for a worker
    unsigned idle_ = 0;      // workers waiting for a job
    bool stopping_ = false;
    // Loop thread only: when run_here_if_idle may run work again (after a
    // pause as long as the last such work took).
    std::chrono::steady_clock::time_point here_allowed_after_{};
    std::vector<std::thread> workers_;
};

} // namespace apitoken::daemon
