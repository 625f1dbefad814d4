#include "daemon/hash_worker_pool.hpp"

#include <sys/eventfd.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>

namespace apitoken::daemon {

HashWorkerPool::HashWorkerPool(sd_event* event, unsigned threads, std::size_t capacity)
    : capacity_(capacity) {
    wakeup_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeup_fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    const int r = sd_event_add_io(event, &wakeup_source_, wakeup_fd_, EPOLLIN, on_wakeup, this);
    if (r < 0) {
        ::close(wakeup_fd_);
        throw std::system_error(-r, std::generic_category(), "sd_event_add_io");
    }
    workers_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
}

HashWorkerPool::~HashWorkerPool() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
    sd_event_source_disable_unref(wakeup_source_);
    ::close(wakeup_fd_);
}

bool HashWorkerPool::try_submit(Step work, Step done) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || outstanding_ >= capacity_) {
            return false;
        }
        queued_.push_back({std::move(work), std::move(done)});
        ++outstanding_;
    }
    work_ready_.notify_one();
    return true;
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
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
            if (queued_.empty()) {
                return; // stopping, and nothing left to do
            }
            job = std::move(queued_.front());
            queued_.pop_front();
        }
        run_work(std::move(job.work));
        {
            const std::lock_guard lock(mutex_);
            completed_.push_back(std::move(job.done));
        }
        progress_.notify_all();
        const std::uint64_t one = 1;
        // A full counter (never in practice) still leaves the fd readable.
        [[maybe_unused]] const ssize_t written = ::write(wakeup_fd_, &one, sizeof one);
    }
}

void HashWorkerPool::deliver_completed() {
    std::deque<Step> ready;
    {
        const std::lock_guard lock(mutex_);
        ready.swap(completed_);
    }
    for (auto& done : ready) {
        try {
            done();
        } catch (...) {
            // A reply that failed (out of memory) must not stop the others.
        }
        const std::lock_guard lock(mutex_);
        --outstanding_;
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
