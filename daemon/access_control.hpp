#pragma once

#include "daemon/audit_log.hpp"
#include "daemon/authorization.hpp"
#include "daemon/caller.hpp"
#include "daemon/config.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// The user a call is about, as NSS knows them now.
struct Target {
    std::string name;
    std::optional<uid_t> uid;            // nullopt: the user does not exist (any more)
    bool caller_acts_for_anyone = false; // root, or in the group for this action
};

// Who may act for whom: the authorization table (authorization.hpp) applied
// to real users and groups, with refusals logged. Throws ApiError
// (AccessDenied, NoSuchUser, InvalidArgument) or UserDirectoryError.
class AccessControl {
public:
    AccessControl(const Config& config, const AuditLog& log) : config_(config), log_(log) {}

    // The user a call names. Does not depend on who asks, so an
    // authentication can look it up before the bus has said.
    [[nodiscard]] static Target look_up(const std::string& user);
    // "" in a call names the caller themself.
    [[nodiscard]] static Target caller_itself(const Caller& caller);

    // Whether the caller may touch the target's tokens (AccessDenied, logged,
    // if not; sets target.caller_acts_for_anyone). A caller who may not act
    // for others learns nothing about whether a user exists: that is
    // AccessDenied too. `must_exist`: NoSuchUser for a privileged caller.
    void authorize(const Caller& caller, Target& target, Action action, bool must_exist) const;
    // look_up (or caller_itself for "") and authorize.
    [[nodiscard]] Target resolve(const Caller& caller, const std::string& user, Action action,
                                 bool must_exist) const;
    // Whether the caller may manage everyone's tokens (root, the admin group).
    [[nodiscard]] bool acts_for_everyone(const Caller& caller) const;
    // Root and the admin group (what only they may see), else AccessDenied.
    void require_admin(const Caller& caller, std::string_view what) const;

private:
    [[nodiscard]] PrivilegedGroups groups(const Caller& caller, Action action) const;
    [[noreturn]] void refuse(const Caller& caller, const std::string& user, Action action) const;

    const Config& config_;
    const AuditLog& log_;
};

} // namespace apitoken::daemon
