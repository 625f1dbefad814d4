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
        make_room(now);
        sources_.emplace(source, Window{now, 1});
        return;
    }
    if (expired(it->second, now)) {
        it->second = Window{now, 0};
    }
    ++it->second.failures;
}

void Throttle::record_success(const ThrottleSource& source) {
    sources_.erase(source);
}

void Throttle::make_room(Clock::time_point now) {
    if (sources_.size() < max_sources_) {
        return;
    }
    std::erase_if(sources_, [&](const auto& entry) { return expired(entry.second, now); });
    if (sources_.size() < max_sources_) {
        return;
    }
    const auto oldest =
        std::min_element(sources_.begin(), sources_.end(), [](const auto& a, const auto& b) {
            return a.second.start < b.second.start;
        });
    sources_.erase(oldest);
}

} // namespace apitoken::daemon
