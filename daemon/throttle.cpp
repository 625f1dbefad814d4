#include "daemon/throttle.hpp"

#include <algorithm>

namespace apitoken::daemon {

Throttle::Throttle(unsigned max_failures, std::chrono::seconds window, std::size_t max_sources)
    : max_failures_(max_failures), window_(window),
      max_sources_(std::max<std::size_t>(1, max_sources)) {}

bool Throttle::blocked(const ThrottleSource& source, Clock::time_point now) const {
    const auto it = sources_.find(source);
    return it != sources_.end() && !expired(it->second, now) &&
           it->second.failures >= max_failures_;
}

bool Throttle::any_blocked_for(std::string_view user, Clock::time_point now) {
    forget_expired(now);
    return blocked_per_user_.find(user) != blocked_per_user_.end();
}

void Throttle::record_failure(const ThrottleSource& source, Clock::time_point now) {
    forget_expired(now);
    auto it = sources_.find(source);
    if (it == sources_.end()) {
        if (sources_.size() >= max_sources_) {
            forget_oldest();
        }
        oldest_first_.push_back(source);
        it = sources_.emplace(source, Window{now, 0, std::prev(oldest_first_.end())}).first;
    }
    if (++it->second.failures == max_failures_) {
        count_blocked(source, +1);
    }
}

void Throttle::record_success(const ThrottleSource& source) {
    const auto it = sources_.find(source);
    if (it != sources_.end()) {
        forget(it);
    }
}

void Throttle::forget(std::map<ThrottleSource, Window>::iterator it) {
    if (it->second.failures >= max_failures_) {
        count_blocked(it->first, -1);
    }
    oldest_first_.erase(it->second.age);
    sources_.erase(it);
}

void Throttle::forget_oldest() {
    forget(sources_.find(oldest_first_.front()));
}

// Windows start in list order, so the expired ones are at its front: an
// expired source is as good as new, and forgetting it keeps the table and
// blocked_per_user_ current in O(1) per source.
void Throttle::forget_expired(Clock::time_point now) {
    while (!oldest_first_.empty()) {
        const auto it = sources_.find(oldest_first_.front());
        if (!expired(it->second, now)) {
            return;
        }
        forget(it);
    }
}

void Throttle::count_blocked(const ThrottleSource& source, int delta) {
    if (delta > 0) {
        ++blocked_per_user_[source.user];
        return;
    }
    const auto found = blocked_per_user_.find(source.user);
    if (found != blocked_per_user_.end() && --found->second == 0) {
        blocked_per_user_.erase(found);
    }
}

} // namespace apitoken::daemon
