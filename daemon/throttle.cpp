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

void Throttle::record_failure(const ThrottleSource& source, Clock::time_point now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) {
        if (sources_.size() >= max_sources_) {
            forget_oldest();
        }
        oldest_first_.push_back(source);
        sources_.emplace(source, Window{now, 1, std::prev(oldest_first_.end())});
        return;
    }
    Window& w = it->second;
    if (expired(w, now)) {
        // A new window starts now: it becomes the youngest.
        oldest_first_.splice(oldest_first_.end(), oldest_first_, w.age);
        w.start = now;
        w.failures = 0;
    }
    ++w.failures;
}

void Throttle::record_success(const ThrottleSource& source) {
    const auto it = sources_.find(source);
    if (it != sources_.end()) {
        oldest_first_.erase(it->second.age);
        sources_.erase(it);
    }
}

void Throttle::forget_oldest() {
    sources_.erase(oldest_first_.front());
    oldest_first_.pop_front();
}

} // namespace apitoken::daemon
