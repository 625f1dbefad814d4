#include "store/state_directory.hpp"

#include "store/store_error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace apitoken::store {
namespace {

constexpr mode_t kDirectoryMode = 0700;
constexpr mode_t kFileMode = 0600;
constexpr const char* kLockFileName = "apitoken.lock";

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
    throw StoreError(StoreErrc::StateDirUnusable, "state directory " + path.string() + ": " + why);
}

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

void create_or_check(const std::filesystem::path& path) {
    if (::mkdir(path.c_str(), kDirectoryMode) != 0 && errno != EEXIST) {
        refuse(path, "cannot create it: " + errno_text(errno));
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        refuse(path, errno_text(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        refuse(path, "exists but is not a directory");
    }
    if (st.st_uid != ::geteuid()) {
        refuse(path, "is owned by uid " + std::to_string(st.st_uid) +
                         ", but this process runs as uid " + std::to_string(::geteuid()) +
                         " (chown it to the daemon's user)");
    }
    // Tokens' hashes and usage data are nobody else's business.
    if ((st.st_mode & 07777) != kDirectoryMode && ::chmod(path.c_str(), kDirectoryMode) != 0) {
        refuse(path, "cannot set its mode to 0700: " + errno_text(errno));
    }
    if (::access(path.c_str(), R_OK | W_OK | X_OK) != 0) {
        refuse(path, "not readable and writable: " + errno_text(errno));
    }
}

std::string read_holder_pid(int fd) {
    char buffer[32] = {};
    const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    std::string pid = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
    }
    return pid.empty() ? "unknown" : pid;
}

UniqueFd take_lock(const std::filesystem::path& dir) {
    const auto lock_path = dir / kLockFileName;
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode));
    if (!fd) {
        refuse(dir, "cannot open " + lock_path.string() + ": " + errno_text(errno));
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        const std::string holder = read_holder_pid(fd.get());
        if (error == EWOULDBLOCK) {
            throw StoreError(StoreErrc::InUse, "state directory " + dir.string() +
                                                   " is in use by another apitoken process (pid " +
                                                   holder + ")");
        }
        refuse(dir, "cannot lock " + lock_path.string() + ": " + errno_text(error));
    }
    // The pid is only informational (for the message above); failing to write
    // it must not stop the daemon.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
    }
    return fd;
}

} // namespace

StateDirectory::StateDirectory(std::filesystem::path path) : path_(std::move(path)) {
    create_or_check(path_);
    lock_fd_ = take_lock(path_);
}

} // namespace apitoken::store
