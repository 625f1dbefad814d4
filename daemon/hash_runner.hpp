#pragma once

#include <functional>

namespace apitoken::daemon {

// Where Argon2 work goes (HashWorkerPool in the daemon). `work` runs on some
// other thread, then `done` on the submitting thread. False: no room, and
// neither step will run (the caller answers Busy).
class HashRunner {
public:
    using Step = std::function<void()>;
    HashRunner() = default;
    HashRunner(const HashRunner&) = delete;
    HashRunner& operator=(const HashRunner&) = delete;
    HashRunner(HashRunner&&) = delete;
    HashRunner& operator=(HashRunner&&) = delete;
    virtual ~HashRunner() = default;
    [[nodiscard]] virtual bool try_submit(Step work, Step done) = 0;
};

} // namespace apitoken::daemon
