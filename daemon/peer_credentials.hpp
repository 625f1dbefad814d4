#pragma once

#include "daemon/caller.hpp"

#include <optional>

namespace apitoken::daemon {

// Who is on the other end of a connected Unix socket, as the kernel recorded
// it when the peer connected (SO_PEERCRED: uid, pid; SO_PEERGROUPS: its
// supplementary groups then), never anything the peer says. Nothing when
// the kernel cannot tell.
[[nodiscard]] std::optional<Caller> peer_caller(int fd);

} // namespace apitoken::daemon
