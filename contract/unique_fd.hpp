#pragma once

#include <unistd.h>

#include <utility>

namespace apitoken {

// An owned file descriptor: closed exactly once, by whoever holds it last.
// Header-only and dependency-free, so every part (the PAM module included)
// can use it without linking anything.
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives the descriptor up without closing it.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the descriptor held (if any) and holds `fd` instead. A failed
    // close() still frees the descriptor on Linux, so there is nothing to retry.
    void reset(int fd = -1) noexcept {
        if (fd == fd_) {
            return; // closing it would leave us holding a number that is no longer ours
        }
        const int old = std::exchange(fd_, fd);
        if (old >= 0) {
            static_cast<void>(::close(old));
        }
    }

private:
    int fd_ = -1;
};

} // namespace apitoken
