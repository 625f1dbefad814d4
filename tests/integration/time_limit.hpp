#pragma once

#include <chrono>

namespace apitoken::testing {

// ctest's limit for one integration test (tests/integration/CMakeLists.txt:
// longer under ASan). A test that waits out a slow machine keeps its own
// waits inside it, so that it reports what it saw instead of being killed
// by ctest without a word.
inline constexpr std::chrono::seconds kCtestTimeLimit{APITOKEN_INTEGRATION_TIMEOUT_S};

} // namespace apitoken::testing
