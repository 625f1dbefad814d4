#include "daemon/hash_worker_pool.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace apitoken::daemon {

namespace {

constexpr int kWorkerNice = 10;

std::size_t default_lane_share(unsigned threads, std::size_t capacity) {
    return std::max<std::size_t>(std::size_t{2} * std::max(threads, 1U), capacity / 8);
}

} // namespace

bool HashWorkerPool::priority_adjustable() {
    const auto self = static_cast<id_t>(::gettid());
    errno = 0;
    const int nice = ::getpriority(PRIO_PROCESS, self);
    return errno == 0 && ::setpriority(PRIO_PROCESS, self, nice) == 0;
}

HashWorkerPool::HashWorkerPool(sd_event* event, unsigned threads, std::size_t capacity,
                               std::size_t lane_share)
    : capacity_(capacity),
      lane_share_(lane_share != 0 ? lane_share : default_lane_share(threads, capacity)),
      caller_share_(std::max(lane_share_, capacity - std::min(capacity, lane_share_))) {
    wakeup_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wakeup_fd_) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    wakeup_source_ =
        ipc::watch_readable(event, wakeup_fd_.get(), on_wakeup, this, "sd_event_add_io");
    try {
        workers_.reserve(threads);
        for (unsigned i = 0; i < threads; ++i) {
            workers_.emplace_back([this] { worker_loop(); });
        }
    } catch (...) {
        stop_workers(); // a joinable std::thread left behind would terminate the daemon
        throw;
    }
}

HashWorkerPool::~HashWorkerPool() {
    stop_workers();
}

void HashWorkerPool::stop_workers() noexcept {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
}

bool HashWorkerPool::try_submit(const HashLane& lane, Step work, Step done) {
    {
        const std::lock_guard lock(mutex_);
        const auto caller = per_caller_.find(lane.caller);
        const std::size_t of_caller = caller != per_caller_.end() ? caller->second : 0;
        const auto lane_entry = per_lane_.find(lane);
        const std::size_t in_lane = lane_entry != per_lane_.end() ? lane_entry->second : 0;
        if (stopping_ || outstanding_ >= capacity_ || in_lane >= lane_share_ ||
            of_caller >= caller_share_) {
            return false;
        }
        std::deque<Job>& queue = lanes_[lane];
        if (queue.empty()) {
            turns_.push_back(lane);
        }
        queue.push_back({std::move(work), std::move(done), lane});
        ++per_lane_[lane];
        ++per_caller_[lane.caller];
        ++outstanding_;
        ++queued_;
    }
    work_ready_.notify_one();
    return true;
}

bool HashWorkerPool::try_start_on_idle_worker(Step work, Step done) {
    {
        const std::lock_guard lock(mutex_);
        // An idle worker that no queued job has claimed yet.
        if (stopping_ || outstanding_ >= capacity_ || idle_ <= queued_) {
            return false;
        }
        on_idle_.push_back({std::move(work), std::move(done), std::nullopt});
        ++outstanding_;
        ++queued_;
    }
    work_ready_.notify_one();
    return true;
}

bool HashWorkerPool::run_here_if_idle(const Step& work) {
    const auto start = std::chrono::steady_clock::now();
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || outstanding_ != 0 || start < here_allowed_after_) {
            return false;
        }
    }
    work();
    const auto end = std::chrono::steady_clock::now();
    here_allowed_after_ = end + (end - start);
    return true;
}

HashWorkerPool::Job HashWorkerPool::next_job() {
    --queued_;
    if (!on_idle_.empty()) {
        Job job = std::move(on_idle_.front());
        on_idle_.pop_front();
        return job;
    }
    const HashLane lane = std::move(turns_.front());
    turns_.pop_front();
    const auto queue = lanes_.find(lane);
    Job job = std::move(queue->second.front());
    queue->second.pop_front();
    if (queue->second.empty()) {
        lanes_.erase(queue);
    } else {
        turns_.push_back(lane); // its next job waits for the other lanes' turns
    }
    return job;
}

// Runs and destroys `work` here, before its job is handed back: whatever the
// closure holds (a reference to a bus message, say) must be released on this
// thread only while the loop thread still holds it too, never last.
void HashWorkerPool::run_work(Step work) noexcept {
    try {
        const Step owned = std::move(work);
        owned();
    } catch (...) {
        // The steps report their own failures to `done`; nothing may end
        // a worker thread.
    }
}

void HashWorkerPool::worker_loop() {
    // Hashing yields the CPU to the event loop and the bus daemon: under a
    // flood, answering calls (and reading the next caller's) matters more
    // than hashing the flooder's tokens faster. Nice is per thread on Linux.
    // (apitokend.service allows setpriority; where a system-call filter
    // forbids it, start-up says so: see priority_adjustable().)
    static_cast<void>(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWorkerNice));
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            ++idle_;
            work_ready_.wait(lock, [this] { return stopping_ || queued_ > 0; });
            --idle_;
            if (queued_ == 0) {
                return; // stopping, and nothing left to do
            }
            job = next_job();
        }
        run_work(std::move(job.work));
        job.work = nullptr;
        {
            const std::lock_guard lock(mutex_);
            completed_.push_back(std::move(job));
        }
        progress_.notify_all();
        const std::uint64_t one = 1;
        // A full counter (never in practice) still leaves the fd readable.
        [[maybe_unused]] const ssize_t written = ::write(wakeup_fd_.get(), &one, sizeof one);
    }
}

void HashWorkerPool::after_completions(Step step) {
    if (delivering_) {
        after_delivery_.push_back(std::move(step));
    } else {
        step();
    }
}

void HashWorkerPool::deliver_completed() {
    std::deque<Job> ready;
    {
        const std::lock_guard lock(mutex_);
        ready.swap(completed_);
    }
    delivering_ = true;
    for (auto& job : ready) {
        try {
            job.done();
        } catch (...) {
            // A reply that failed (out of memory) must not stop the others.
        }
        const std::lock_guard lock(mutex_);
        --outstanding_;
        if (job.lane) {
            const auto in_lane = per_lane_.find(*job.lane);
            if (--in_lane->second == 0) {
                per_lane_.erase(in_lane);
            }
            const auto of_caller = per_caller_.find(job.lane->caller);
            if (--of_caller->second == 0) {
                per_caller_.erase(of_caller);
            }
        }
    }
    delivering_ = false;
    for (auto& step : std::exchange(after_delivery_, {})) {
        try {
            step();
        } catch (...) {
            // As above: one failed step must not stop the others.
        }
    }
    progress_.notify_all();
}

void HashWorkerPool::drain() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (outstanding_ == 0) {
                return;
            }
            if (completed_.empty()) {
                progress_.wait(lock);
                continue;
            }
        }
        deliver_completed();
    }
}

std::size_t HashWorkerPool::outstanding() const {
    const std::lock_guard lock(mutex_);
    return outstanding_;
}

int HashWorkerPool::on_wakeup(sd_event_source* /*source*/, int fd, unsigned /*revents*/,
                              void* userdata) {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t got = ::read(fd, &count, sizeof count);
    static_cast<HashWorkerPool*>(userdata)->deliver_completed();
    return 0;
}

} // namespace apitoken::daemon
