#pragma once

#include "store/token_record.hpp"

#include <chrono>

namespace apitoken::daemon {

// Now, to the second, as the store keeps times.
[[nodiscard]] inline store::TimePoint now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace apitoken::daemon
