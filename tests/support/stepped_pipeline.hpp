#pragma once

// Test doubles that let a test (or the fuzzer) drive the authentication
// pipeline step by step, without a bus or worker threads: the hashing and
// the caller's identity are answered exactly when the test says.

#include "daemon/caller_lookup.hpp"
#include "daemon/hash_runner.hpp"

#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace apitoken::testing {

// Hashing whose steps run when the test likes: `run_one` runs the oldest
// job's work and then its completion, as the pool would on the loop thread.
class SteppedHashRunner : public daemon::HashRunner {
public:
    bool refuse_next = false; // answer the next submission as a full queue
    bool idle = true;         // a worker is idle (when no job waits)
    bool here = false;        // run_here_if_idle may run work

    bool try_submit(const daemon::HashLane& lane, Step work, Step done) override {
        if (std::exchange(refuse_next, false)) {
            return false;
        }
        lanes.push_back(lane);
        pending_.emplace_back(std::move(work), std::move(done));
        return true;
    }
    bool try_start_on_idle_worker(Step work, Step done) override {
        if (!idle || !pending_.empty()) {
            return false;
        }
        ++early_starts;
        pending_.emplace_back(std::move(work), std::move(done));
        return true;
    }
    // With `here` set, a job nothing waits before runs at once on the
    // caller's thread, as the pool does when its workers are idle.
    bool run_here_if_idle(const Step& work) override {
        if (!here || !pending_.empty()) {
            return false;
        }
        ++ran_here;
        work();
        return true;
    }
    void after_completions(Step step) override {
        if (delivering_) {
            after_.push_back(std::move(step));
        } else {
            step();
        }
    }
    // What was submitted: the lanes in order, and how many started early.
    std::vector<daemon::HashLane> lanes;
    std::size_t early_starts = 0;
    std::size_t ran_here = 0;

    // One job, delivered alone.
    void run_one() { run_together(1); }
    // The `count` oldest jobs, delivered together as the pool does with jobs
    // that finished at the same time (after_completions steps run after all).
    void run_together(std::size_t count) {
        delivering_ = true;
        for (; count > 0 && !pending_.empty(); --count) {
            auto [work, done] = std::move(pending_.front());
            pending_.pop_front();
            work();
            done();
        }
        delivering_ = false;
        for (auto& step : std::exchange(after_, {})) {
            step();
        }
    }
    void run_all() {
        while (!pending_.empty()) {
            run_one();
        }
    }
    [[nodiscard]] std::size_t waiting() const noexcept { return pending_.size(); }

private:
    std::deque<std::pair<Step, Step>> pending_;
    bool delivering_ = false;
    std::vector<Step> after_;
};

// The caller's identity, answered when the test says (or at once if it
// was told the answer before the call).
class SteppedCallerLookup : public daemon::CallerLookup {
public:
    void identify(Answer answer) override {
        ++asked_;
        answer_ = std::move(answer);
    }
    [[nodiscard]] bool asked() const noexcept { return asked_ > 0; }
    [[nodiscard]] std::size_t times_asked() const noexcept { return asked_; }
    // Answers the question asked; false if none is waiting.
    bool answer(const daemon::Identity& who) {
        if (!answer_) {
            return false;
        }
        const Answer pending = std::exchange(answer_, nullptr);
        pending(who);
        return true;
    }

private:
    Answer answer_;
    std::size_t asked_ = 0;
};

// A lookup that knows the answer before it is asked.
class KnownCallerLookup : public daemon::CallerLookup {
public:
    explicit KnownCallerLookup(daemon::Identity who) : who_(std::move(who)) {}
    void identify(Answer answer) override { answer(who_); }

private:
    daemon::Identity who_;
};

} // namespace apitoken::testing
