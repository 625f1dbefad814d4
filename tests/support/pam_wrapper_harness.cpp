#include "tests/support/pam_wrapper_harness.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// pam_wrapper names its per-process directory /tmp/pam.X with one character:
// 62 names for every PAM process on the machine. Beside a parallel test's
// flood of PAM processes a login can find every name taken, or another
// process's clean-up (which tells live owners by pid & 0xFFFF) removes its
// directory while it copies the service files or before libpam reads them;
// it then loads no module at all (libpam: "failed to initialize handlers").
// pam_wrapper's set-up (pwrap_init, which can run more than once in a
// process) either finishes, which it says at debug level 2 ("Successfully
// initialized", the level pam_environment() sets), or ends the program: with
// an error when no name is free, silently when it cannot write its pid file
// (its directory vanished, or it lost the name to another uid between lstat
// and mkdir). Its other error lines are not fatal. So: a set-up began and did
// not finish, or no name was free, or libpam found no service files. Every
// service a test uses has its file, so none of these is a verdict.
bool pam_wrapper_failed(const ProcessResult& r) {
    const auto count = [&](std::string_view text) {
        std::size_t n = 0;
        for (auto at = r.err.find(text); at != std::string::npos; at = r.err.find(text, at + 1)) {
            ++n;
        }
        return n;
    };
    return count("pwrap_init: Failed to find a possible path") > 0 ||
           count("pwrap_init: Initialize pam_wrapper") >
               count("pwrap_init: Successfully initialized pam_wrapper") ||
           count("pam_start: failed to initialize handlers") > 0;
}

// A directory whose process died before its own clean-up ran (killed by a
// test, or its pid file removed by another process's mistaken clean-up) is
// never reclaimed by pam_wrapper: another uid may not remove it from the
// sticky /tmp, and one without a pid file is never even considered. Such
// directories pile up until no name is left. The tests run as root, so they
// reclaim them: a directory whose pid is gone, or one without a pid file that
// is older than any set-up takes (pam_wrapper writes the pid file right after
// mkdir).
bool pam_wrapper_dir_is_stale(const fs::path& dir) {
    std::ifstream pid_file(dir / "pid");
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0) {
        return ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    struct stat st {};
    return ::lstat(dir.c_str(), &st) == 0 &&
           std::chrono::system_clock::now() -
                   std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) >
               2min;
}

void sweep_stale_pam_wrapper_dirs() {
    if (::geteuid() != 0) {
        return;
    }
    constexpr std::string_view kNames =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (const char name : kNames) {
        const fs::path dir = std::string("/tmp/pam.") + name;
        std::error_code ec;
        if (fs::symlink_status(dir, ec).type() == fs::file_type::directory &&
            pam_wrapper_dir_is_stale(dir)) {
            fs::remove_all(dir, ec); // a live owner may race us to it: fine
        }
    }
}

} // namespace

ProcessResult run_pam_wrapped(const std::vector<std::string>& argv, const Environment& env,
                              const std::string& input) {
    const auto give_up = std::chrono::steady_clock::now() + 90s;
    auto pause = 10ms;
    ProcessResult result = run_process(argv, env, 120s, input);
    while (pam_wrapper_failed(result) && std::chrono::steady_clock::now() < give_up) {
        sweep_stale_pam_wrapper_dirs();
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(500));
        result = run_process(argv, env, 120s, input);
    }
    return result;
}

} // namespace apitoken::testing
