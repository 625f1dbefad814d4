#pragma once

#include "daemon/caller.hpp"

#include <sys/types.h>

#include <optional>

namespace apitoken::daemon {

// What a caller wants to do to some user's tokens.
enum class Action {
    Authenticate, // check a token
    Manage,       // create, list, revoke, rename
};

// The groups of design.md, resolved to gids (nullopt: no such group here).
struct PrivilegedGroups {
    std::optional<gid_t> auth;  // may Authenticate for anyone (services such as www-data)
    std::optional<gid_t> admin; // may Manage anyone's tokens
};

// The authorization table of design.md:
//   Authenticate: root, the user themself, members of the auth group.
//   Manage:       root, the user themself, members of the admin group.
[[nodiscard]] bool may_act_for_anyone(const Caller& caller, Action action,
                                      const PrivilegedGroups& groups);
[[nodiscard]] bool may_act(const Caller& caller, uid_t target_uid, Action action,
                           const PrivilegedGroups& groups);

} // namespace apitoken::daemon
