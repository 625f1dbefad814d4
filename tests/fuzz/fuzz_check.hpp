#pragma once

#include <cstdio>
#include <cstdlib>

namespace apitoken::fuzz {

// A broken property is a finding, so it must stop the run the way a sanitizer
// report does: libFuzzer saves the input only when the process dies.
[[noreturn]] inline void property_failed(const char* what) {
    static_cast<void>(std::fprintf(stderr, "fuzz property violated: %s\n", what));
    std::abort();
}

inline void check(bool holds, const char* what) {
    if (!holds) {
        property_failed(what);
    }
}

} // namespace apitoken::fuzz
