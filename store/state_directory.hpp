#pragma once

#include "contract/unique_fd.hpp"

#include <filesystem>

namespace apitoken::store {

// The daemon's state directory, prepared and held for exclusive use:
// created 0700 when missing (its parent must exist), refused when it is not
// a directory or not owned by us, its mode tightened to 0700, and locked with
// flock() on "apitoken.lock" so that a second daemon fails at once with the
// holder's pid instead of two writers sharing the store. The lock dies with
// the process, so a kill -9 never leaves a stale lock behind.
class StateDirectory {
public:
    explicit StateDirectory(std::filesystem::path path); // throws StoreError
    StateDirectory(const StateDirectory&) = delete;
    StateDirectory& operator=(const StateDirectory&) = delete;
    StateDirectory(StateDirectory&& other) noexcept = default;
    StateDirectory& operator=(StateDirectory&& other) noexcept = default;
    ~StateDirectory() = default;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    UniqueFd lock_fd_; // closing it releases the flock
};

} // namespace apitoken::store
