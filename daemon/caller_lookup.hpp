#pragma once

#include "daemon/api_error.hpp"
#include "daemon/caller.hpp"

#include <functional>
#include <variant>

namespace apitoken::daemon {

// Who sent a call, or why that cannot be said (then the call is refused).
using Identity = std::variant<Caller, Failure>;

// Finds out who sent one call: the bus edge asks the bus daemon (an answer
// after a round trip), a test answers when it likes. The core asks once per
// call and does what does not depend on the answer meanwhile.
class CallerLookup {
public:
    using Answer = std::function<void(const Identity& who)>;

    CallerLookup() = default;
    CallerLookup(const CallerLookup&) = delete;
    CallerLookup& operator=(const CallerLookup&) = delete;
    CallerLookup(CallerLookup&&) = delete;
    CallerLookup& operator=(CallerLookup&&) = delete;
    virtual ~CallerLookup() = default;

    // Runs `answer` exactly once, at once or later on the loop thread; only
    // when the daemon shuts down first may it never run.
    virtual void identify(Answer answer) = 0;
};

} // namespace apitoken::daemon
