#include "daemon/call_budget.hpp"

#include <algorithm>

namespace apitoken::daemon {

CallBudget::CallBudget(std::size_t capacity, std::chrono::seconds refill_period,
                       std::size_t max_callers)
    : capacity_(static_cast<double>(capacity)),
      per_second_(
          static_cast<double>(capacity) /
          static_cast<double>(std::max<std::chrono::seconds::rep>(refill_period.count(), 1))),
      max_callers_(std::max<std::size_t>(max_callers, 1)) {}

void CallBudget::refill(Budget& budget, Clock::time_point now) const {
    const std::chrono::duration<double> elapsed = now - budget.at;
    if (elapsed.count() > 0) {
        budget.available = std::min(capacity_, budget.available + elapsed.count() * per_second_);
        budget.at = now;
    }
}

void CallBudget::forget_least_recent() {
    const auto oldest =
        std::min_element(budgets_.begin(), budgets_.end(),
                         [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
    if (oldest != budgets_.end()) {
        budgets_.erase(oldest);
    }
}

bool CallBudget::try_spend(uid_t uid, std::size_t cost, Clock::time_point now) {
    auto found = budgets_.find(uid);
    if (found == budgets_.end()) {
        if (budgets_.size() >= max_callers_) {
            forget_least_recent();
        }
        found = budgets_.emplace(uid, Budget{capacity_, now}).first;
    }
    Budget& budget = found->second;
    refill(budget, now);
    const auto wanted = static_cast<double>(cost);
    if (wanted > budget.available) {
        return false;
    }
    budget.available -= wanted;
    return true;
}

} // namespace apitoken::daemon
