#pragma once

#include <sys/types.h>

#include <algorithm>
#include <vector>

namespace apitoken::daemon {

// Who is on the other end of a bus call, as the bus daemon saw it when the
// caller connected (SO_PEERCRED / SO_PEERGROUPS): not what the caller says.
struct Caller {
    uid_t uid = static_cast<uid_t>(-1);
    std::vector<gid_t> groups; // supplementary groups
    pid_t pid = 0;

    [[nodiscard]] bool is_root() const noexcept { return uid == 0; }
    [[nodiscard]] bool in_group(gid_t gid) const {
        return std::find(groups.begin(), groups.end(), gid) != groups.end();
    }
};

} // namespace apitoken::daemon
