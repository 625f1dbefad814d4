#include "tests/support/subprocess.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

namespace apitoken::testing {
namespace {

// What the child needs, made before fork(): in a test with threads, the
// child of fork() may only make async-signal-safe calls until it execs (a
// lock another thread held at the fork, the allocator's for one, stays held
// in the child for ever).
class PreparedExec {
public:
    // The test's environment with `env` set over it, in order (a later
    // entry for a name replaces an earlier one, as setenv would).
    PreparedExec(std::vector<std::string> argv, const Environment& env) : argv_(std::move(argv)) {
        for (char** entry = environ; *entry != nullptr; ++entry) {
            env_.emplace_back(*entry);
        }
        for (const auto& extra : env) {
            const auto same_name = [name = name_of(extra)](const std::string& entry) {
                return name_of(entry) == name;
            };
            if (const auto it = std::ranges::find_if(env_, same_name); it != env_.end()) {
                *it = extra;
            } else {
                env_.push_back(extra);
            }
        }
        argv_pointers_ = pointers(argv_);
        env_pointers_ = pointers(env_);
    }
    // The pointers point into the strings: never copied or moved.
    PreparedExec(const PreparedExec&) = delete;
    PreparedExec& operator=(const PreparedExec&) = delete;
    PreparedExec(PreparedExec&&) = delete;
    PreparedExec& operator=(PreparedExec&&) = delete;
    ~PreparedExec() = default;

    // In the child: redirections, exec. Never returns.
    [[noreturn]] void run(int stdin_fd, int stdout_fd, int stderr_fd) const {
        ::dup2(stdin_fd, STDIN_FILENO);
        ::dup2(stdout_fd, STDOUT_FILENO);
        ::dup2(stderr_fd, STDERR_FILENO);
        ::setpgid(0, 0);
        ::execvpe(argv_pointers_[0], argv_pointers_.data(), env_pointers_.data());
        ::_exit(127);
    }

private:
    static std::string_view name_of(std::string_view entry) {
        return entry.substr(0, entry.find('='));
    }

    static std::vector<char*> pointers(std::vector<std::string>& strings) {
        std::vector<char*> out;
        out.reserve(strings.size() + 1);
        for (auto& text : strings) {
            out.push_back(text.data());
        }
        out.push_back(nullptr);
        return out;
    }

    std::vector<std::string> argv_;
    std::vector<std::string> env_;
    std::vector<char*> argv_pointers_;
    std::vector<char*> env_pointers_;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

bool reap(pid_t pid, int& status, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return true;
        }
        if (r < 0 || std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const Environment& env,
                          std::chrono::milliseconds timeout, const std::string& stdin_text) {
    char out_path[] = "/tmp/apitoken-out-XXXXXX";
    char err_path[] = "/tmp/apitoken-err-XXXXXX";
    char in_path[] = "/tmp/apitoken-in-XXXXXX";
    const int out_fd = ::mkstemp(out_path);
    const int err_fd = ::mkstemp(err_path);
    const int in_fd = ::mkstemp(in_path);
    if (out_fd < 0 || err_fd < 0 || in_fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    if (!stdin_text.empty() && ::write(in_fd, stdin_text.data(), stdin_text.size()) < 0) {
        throw std::runtime_error("cannot write stdin file");
    }
    ::lseek(in_fd, 0, SEEK_SET);
    const PreparedExec exec(argv, env);
    const pid_t pid = ::fork();
    if (pid == 0) {
        exec.run(in_fd, out_fd, err_fd);
    }
    ProcessResult result;
    int status = 0;
    if (!reap(pid, status, timeout)) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    result.exit_code = exit_code_of(status);
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    for (const int fd : {out_fd, err_fd, in_fd}) {
        ::close(fd);
    }
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    for (const char* path : {out_path, err_path, in_path}) {
        ::unlink(path);
    }
    return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const Environment& env,
                                     std::filesystem::path log)
    : log_(std::move(log)) {
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        throw std::runtime_error("cannot open " + log_.string());
    }
    const PreparedExec exec(argv, env);
    pid_ = ::fork();
    if (pid_ == 0) {
        exec.run(null_fd, log_fd, log_fd);
    }
    ::close(log_fd);
    ::close(null_fd);
}

BackgroundProcess::~BackgroundProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
    }
}

bool BackgroundProcess::running() {
    if (reaped_) {
        return false;
    }
    reaped_ = ::waitpid(pid_, &status_, WNOHANG) == pid_;
    return !reaped_;
}

void BackgroundProcess::signal(int sig) const {
    ::kill(pid_, sig);
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
    if (!reaped_) {
        reaped_ = reap(pid_, status_, timeout);
    }
    return reaped_ ? exit_code_of(status_) : -1;
}

std::string BackgroundProcess::log_text() const {
    return read_file(log_);
}

} // namespace apitoken::testing
