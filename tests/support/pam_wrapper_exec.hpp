#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

// APITOKEN_PAM_WRAPPER, the path of libpam_wrapper.so, comes with the
// apitoken_test_world library (tests/integration/CMakeLists.txt).

namespace apitoken::testing {

// For a program that runs libpam inside its own process (libpamtest, the auth
// benchmark): pam_wrapper must be preloaded from the start, since it sets
// itself up in a constructor. When it is not, re-executes this program with
// it; `argv` is main's. Call it while the process is still single-threaded.
// Returns true when pam_wrapper is in place (go on); false only when the
// re-exec failed.
[[nodiscard]] inline bool ensure_pam_wrapper_preloaded(char** argv) {
    // NOLINTBEGIN(concurrency-mt-unsafe): single-threaded, about to exec
    if (std::getenv("PAM_WRAPPER") != nullptr) {
        return true;
    }
    ::setenv("LD_PRELOAD", APITOKEN_PAM_WRAPPER, 1);
    ::setenv("PAM_WRAPPER", "1", 1);
    // RTLD_DEEPBIND does not mix with sanitizers and valgrind.
    ::setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1);
    ::setenv("NSS_WRAPPER_DISABLE_DEEPBIND", "1", 1);
    // pam_wrapper 1.1.4 (Debian 12) reads the uid_wrapper name instead.
    ::setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1);
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::string options =
        std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0";
    ::setenv("ASAN_OPTIONS", options.c_str(), 1);
    // NOLINTEND(concurrency-mt-unsafe)
    ::execv("/proc/self/exe", argv);
    return false;
}

} // namespace apitoken::testing
