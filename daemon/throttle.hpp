#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

namespace apitoken::daemon {

// Where failed attempts come from: the calling process's uid and the user
// being tried, and, as a caller who acts for anyone (root, the auth group:
// a service such as sshd or su) reports it, the remote host, the PAM
// service, the requesting user (PAM_RUSER) and the real uid of the process
// the module runs in. A guesser is slowed down per source, so the real
// user's correct token from another source (another host, another service,
// another local user running su) keeps working. Callers who act only for
// themselves cannot name these: they could invent one per call to dodge
// the throttle or flood its table.
struct ThrottleSource {
    uid_t caller_uid = 0;
    std::string user;
    std::string rhost;
    std::string service;
    std::string ruser;
    std::int64_t requester_uid = -1; // -1: not said

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
    // Whether any source trying `user` is blocked now (or was until at
    // most a window ago): then the daemon hashes nothing for that user
    // before it knows who asks.
    [[nodiscard]] bool any_blocked_for(std::string_view user, Clock::time_point now);
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
    void forget(std::map<ThrottleSource, Window>::iterator it);
    void forget_expired(Clock::time_point now);
    void count_blocked(const ThrottleSource& source, int delta);

    unsigned max_failures_;
    std::chrono::seconds window_;
    std::size_t max_sources_;
    std::map<ThrottleSource, Window> sources_;
    std::list<ThrottleSource> oldest_first_;                           // by window start
    std::map<std::string, std::size_t, std::less<>> blocked_per_user_; // sources at the limit
};

} // namespace apitoken::daemon
