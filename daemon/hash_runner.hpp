#pragma once

#include <sys/types.h>

#include <compare>
#include <functional>
#include <string>

namespace apitoken::daemon {

// Whose hashing a job is. The runner shares its workers fairly among lanes,
// so that one caller flooding the daemon gets its share and no more:
// an unprivileged caller has one lane (its uid); a caller who acts for
// anyone (root, the auth group: services such as sshd) has one per
// requester it reports (remote host, PAM_RUSER, the requesting process's
// uid), so a guesser behind a service leaves other requesters' logins
// through the same service their own turns.
struct HashLane {
    uid_t caller = 0;
    std::string requester; // "" for a caller acting for themselves

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
    auto operator<=>(const HashLane&) const = default;
};

// Where Argon2 work goes (HashWorkerPool in the daemon). `work` runs on some
// other thread, then `done` on the submitting thread.
class HashRunner {
public:
    using Step = std::function<void()>;
    HashRunner() = default;
    HashRunner(const HashRunner&) = delete;
    HashRunner& operator=(const HashRunner&) = delete;
    HashRunner(HashRunner&&) = delete;
    HashRunner& operator=(HashRunner&&) = delete;
    virtual ~HashRunner() = default;

    // Queues a job in `lane`. False: the lane holds its share already or the
    // queue is full, and neither step will run (the caller answers Busy).
    [[nodiscard]] virtual bool try_submit(const HashLane& lane, Step work, Step done) = 0;
    // Starts a job at once on an idle worker, for a call whose caller is not
    // known yet. False (neither step runs) unless a worker is idle and no job
    // waits: such work never delays anyone else's.
    [[nodiscard]] virtual bool try_start_on_idle_worker(Step work, Step done) = 0;
    // Runs `work` here, on the loop thread, when that delays nobody: no job
    // is queued or running, and such work has taken at most half of the
    // loop's time lately. True when it ran. Saves a cheap hash the two
    // thread hand-offs (to a worker, back through the loop's wake-up), which
    // cost more than the hash itself at the default parameters.
    [[nodiscard]] virtual bool run_here_if_idle(const Step& /*work*/) { return false; }
    // Runs `step` on the loop thread after the `done` steps being delivered
    // now (all jobs that finished together), or at once when none is: work
    // that those steps gather (durable writes) is done once for all.
    virtual void after_completions(Step step) = 0;
};

} // namespace apitoken::daemon
