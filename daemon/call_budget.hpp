#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>

namespace apitoken::daemon {

// A budget per caller uid for calls that a plain user can make in bulk
// (leak scans): each call spends what it costs (ids looked up, tokens
// verified); the budget refills evenly, to `capacity` over `refill_period`.
// A call the budget cannot pay is refused whole, before any work. At most
// `max_callers` budgets are kept (then the one touched longest ago goes:
// a forgotten budget is a full one, so only a caller with that many uids
// could gain anything).
class CallBudget {
public:
    using Clock = std::chrono::steady_clock;

    CallBudget(std::size_t capacity, std::chrono::seconds refill_period,
               std::size_t max_callers = 4096);

    // Spends `cost` of `uid`'s budget if it holds that much; false (nothing
    // spent) if not.
    [[nodiscard]] bool try_spend(uid_t uid, std::size_t cost, Clock::time_point now);
    [[nodiscard]] std::size_t tracked_callers() const noexcept { return budgets_.size(); }

private:
    struct Budget {
        double available = 0;
        Clock::time_point at{};
    };

    void refill(Budget& budget, Clock::time_point now) const;
    void forget_least_recent();

    double capacity_;
    double per_second_;
    std::size_t max_callers_;
    std::map<uid_t, Budget> budgets_;
};

} // namespace apitoken::daemon
