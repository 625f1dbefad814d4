// Fuzzes cli::parse_expiry (apitokenctl --expires) and daemon::parse_duration
// (the same durations in apitokend.conf): user-typed text, any bytes.
#include "cli/time_text.hpp"
#include "contract/duration.hpp"
#include "ipc/bus_api.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

namespace {

using apitoken::fuzz::check;

// A fixed "now" keeps runs reproducible: 2027-01-15T08:00:00Z.
constexpr std::int64_t kNow = 1'799'913'600;

void check_duration(std::string_view text) {
    const auto duration = apitoken::daemon::parse_duration(text);
    if (!duration) {
        return;
    }
    check(duration->count() > 0, "parse_duration accepted a duration that is not positive");
    check(*duration <= apitoken::daemon::kMaxDuration, "parse_duration exceeded kMaxDuration");
    const std::string formatted = apitoken::daemon::format_duration(*duration);
    check(apitoken::daemon::parse_duration(formatted) == duration,
          "format_duration output does not parse back to the same duration");
}

void check_expiry(std::string_view text) {
    std::string error;
    const auto when = apitoken::cli::parse_expiry(text, kNow, error);
    if (!when) {
        check(!error.empty(), "parse_expiry refused without saying why");
        return;
    }
    check(*when == apitoken::ipc::kExpiresNever || *when > kNow,
          "parse_expiry accepted a time that is not in the future");
    // What the CLI prints for the accepted value must not crash either.
    static_cast<void>(apitoken::cli::rfc3339(*when));
    static_cast<void>(apitoken::cli::expiry_text(*when, kNow));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    // Dates are local midnight: pin the zone so results do not depend on the host.
    setenv("TZ", "UTC", 1); // NOLINT(concurrency-mt-unsafe): before any fuzzing thread
    tzset();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_duration(text);
    check_expiry(text);
    return 0;
}
