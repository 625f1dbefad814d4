#include "daemon/peer_credentials.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

namespace apitoken::daemon {
namespace {

// SO_PEERGROUPS says how much room it needs (ERANGE) when the first guess
// is too small: a process may be in up to NGROUPS_MAX (65536) groups.
bool read_groups(int fd, std::vector<gid_t>& out) {
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
            groups.resize(length / sizeof(gid_t));
            out = std::move(groups);
            return true;
        }
        if (errno != ERANGE) {
            return false;
        }
        groups.resize(length / sizeof(gid_t) + 1);
    }
    return false;
}

} // namespace

std::optional<Caller> peer_caller(int fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
        length != sizeof credentials) {
        return std::nullopt;
    }
    Caller caller;
    caller.uid = credentials.uid;
    caller.pid = credentials.pid;
    if (!read_groups(fd, caller.groups)) {
        return std::nullopt; // fail closed: group rights cannot be told
    }
    return caller;
}

} // namespace apitoken::daemon
