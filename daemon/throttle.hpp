#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <tuple>

namespace apitoken::daemon {

// Where failed attempts come from: the calling process's uid, the remote host
// the service reported, and the user being tried. A guesser is slowed down
// per source, so the real user's correct token from another source (another
// host, another service account) keeps working.
struct ThrottleSource {
    uid_t caller_uid = 0;
    std::string rhost;
    std::string user;

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
    auto operator<=>(const ThrottleSource&) const = default;
};

// Counts failures per source in a fixed window: after `max_failures` within
// `window`, the source is blocked until the window, counted from its first
// failure, has passed. A success clears the source. At most `max_sources`
// are tracked, so a flood of sources cannot grow memory: when full, the
// source whose window started first is dropped. Every operation is
// O(log n), so a flood cannot stall the daemon either.
class Throttle {
public:
    using Clock = std::chrono::steady_clock;

    Throttle(unsigned max_failures, std::chrono::seconds window, std::size_t max_sources = 65536);

    [[nodiscard]] bool blocked(const ThrottleSource& source, Clock::time_point now) const;
    void record_failure(const ThrottleSource& source, Clock::time_point now);
    void record_success(const ThrottleSource& source);
    [[nodiscard]] std::size_t tracked_sources() const noexcept { return sources_.size(); }

private:
    struct Window {
        Clock::time_point start;
        unsigned failures = 0;
        std::list<ThrottleSource>::iterator age; // place in oldest_first_
    };

    [[nodiscard]] bool expired(const Window& w, Clock::time_point now) const {
        return now - w.start >= window_;
    }
    void forget_oldest();

    unsigned max_failures_;
    std::chrono::seconds window_;
    std::size_t max_sources_;
    std::map<ThrottleSource, Window> sources_;
    std::list<ThrottleSource> oldest_first_; // by window start
};

} // namespace apitoken::daemon
