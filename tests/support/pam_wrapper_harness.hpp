#pragma once

#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace apitoken::testing {

// Runs a program that uses PAM under pam_wrapper (`env` preloads it) to
// completion, `input` on stdin. A run that pam_wrapper's own set-up failed
// (see pam_wrapper_harness.cpp) is the harness, not a verdict: stale
// pam_wrapper directories are swept and the program runs again, for up to a
// minute and a half, until pam_wrapper sets up.
ProcessResult run_pam_wrapped(const std::vector<std::string>& argv, const Environment& env,
                              const std::string& input);

} // namespace apitoken::testing
