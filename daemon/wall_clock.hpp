#pragma once

#include "store/token_record.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace apitoken::daemon {

// Now, to the second, as the store keeps times.
[[nodiscard]] inline store::TimePoint now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Unix seconds, 0 for none (as the bus and the CLI say "never").
[[nodiscard]] inline std::int64_t unix_seconds(const std::optional<store::TimePoint>& t) {
    return t ? t->time_since_epoch().count() : 0;
}

} // namespace apitoken::daemon
