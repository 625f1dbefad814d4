#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace apitoken::testing {

struct ProcessResult {
    int exit_code = -1; // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
};

// Extra environment entries, "NAME=value"; they are added to (or replace in)
// the test's own environment.
using Environment = std::vector<std::string>;

// Runs a program to completion (killed after `timeout`) and collects its output.
ProcessResult run_process(const std::vector<std::string>& argv, const Environment& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::string& stdin_text = {});

// A program running in the background with stdout and stderr in `log`;
// killed (SIGKILL) and reaped on destruction unless it has been waited for.
class BackgroundProcess {
public:
    BackgroundProcess(const std::vector<std::string>& argv, const Environment& env,
                      std::filesystem::path log);
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;
    BackgroundProcess(BackgroundProcess&&) = delete;
    BackgroundProcess& operator=(BackgroundProcess&&) = delete;
    ~BackgroundProcess();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] bool running();
    void signal(int sig) const;
    // Waits for the exit; returns the exit code (-1 when killed by a signal
    // or still running after `timeout`).
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    [[nodiscard]] std::string log_text() const;

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::filesystem::path log_;
};

} // namespace apitoken::testing
