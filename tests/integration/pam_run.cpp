// apitoken-test-pam-run PROGRAM [ARG...]: runs a program that uses PAM under
// pam_wrapper (preloaded through this process's environment) the way the C++
// tests do (run_pam_wrapped: a run that pam_wrapper's own set-up failed runs
// again), for tests written in other languages. Stdin is passed on; the
// program's output is printed once, from its last run; exits with its code
// (128 + signal when it was killed).
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/pam_wrapper_harness.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: apitoken-test-pam-run PROGRAM [ARG...]\n";
        return 2;
    }
    const std::vector<std::string> command(argv + 1, argv + argc);
    const std::string input{std::istreambuf_iterator<char>(std::cin), {}};
    const auto result = apitoken::testing::run_pam_wrapped(command, {}, input);
    std::cout << result.out << std::flush;
    std::cerr << result.err << std::flush;
    return result.exit_code >= 0 ? result.exit_code : 128 + result.signal;
}
