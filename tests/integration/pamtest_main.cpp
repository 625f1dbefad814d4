// main() of apitoken-pamtest-tests: libpamtest runs PAM inside this process,
// so pam_wrapper must be preloaded from the start (it sets itself up in a
// constructor). When it is not, re-exec this binary with it.
#include "tests/support/pam_wrapper_exec.hpp"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
    // Single-threaded until gtest starts.
    if (!apitoken::testing::ensure_pam_wrapper_preloaded(argv)) {
        return 127;
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
