// main() of apitoken-pamtest-tests: libpamtest runs PAM inside this process,
// so pam_wrapper must be preloaded from the start (it sets itself up in a
// constructor). When it is not, re-exec this binary with it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    // NOLINTBEGIN(concurrency-mt-unsafe): single-threaded until gtest starts
    if (std::getenv("PAM_WRAPPER") == nullptr) {
        ::setenv("LD_PRELOAD", APITOKEN_PAM_WRAPPER, 1);
        ::setenv("PAM_WRAPPER", "1", 1);
        // RTLD_DEEPBIND does not mix with sanitizers and valgrind.
        ::setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1);
        // pam_wrapper 1.1.4 (Debian 12) reads the uid_wrapper name instead.
        ::setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1);
        const char* asan = std::getenv("ASAN_OPTIONS");
        const std::string options =
            std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0";
        ::setenv("ASAN_OPTIONS", options.c_str(), 1);
        ::execv("/proc/self/exe", argv);
        return 127;
    }
    // NOLINTEND(concurrency-mt-unsafe)
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
