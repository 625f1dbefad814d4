#include "daemon/access_control.hpp"

#include "daemon/api_error.hpp"
#include "daemon/user_directory.hpp"
#include "store/name_rules.hpp"

namespace apitoken::daemon {

using ipc::Error;

PrivilegedGroups AccessControl::groups(const Caller& caller, Action action) const {
    // Looked up on every call: an admin adding www-data to the group needs no
    // daemon restart. Root needs no group, and only this action's group
    // matters: each lookup may be a round trip to an NSS service (SSSD, LDAP).
    if (caller.is_root()) {
        return {};
    }
    if (action == Action::Authenticate) {
        return {.auth = group_by_name(config_.auth_group), .admin = std::nullopt};
    }
    return {.auth = std::nullopt, .admin = group_by_name(config_.admin_group)};
}

void AccessControl::refuse(const Caller& caller, const std::string& user, Action action) const {
    log_.record(AuditEvent::AccessDenied,
                {.user = user,
                 .caller_uid = caller.uid,
                 .result = "refused",
                 .reason = action == Action::Authenticate ? "may not authenticate for this user"
                                                          : "may not manage this user's tokens"});
    const std::string group =
        action == Action::Authenticate ? config_.auth_group : config_.admin_group;
    throw ApiError(Error::AccessDenied, "uid " + std::to_string(caller.uid) +
                                            " may not act for user " + user +
                                            " (root and members of " + group + " may)");
}

Target AccessControl::look_up(const std::string& user) {
    if (const std::string problem = store::user_name_problem(user); !problem.empty()) {
        throw ApiError(Error::InvalidArgument, problem);
    }
    const auto entry = user_by_name(user);
    return entry ? Target{entry->name, entry->uid, false} : Target{user, std::nullopt, false};
}

Target AccessControl::caller_itself(const Caller& caller) {
    const auto self = user_by_uid(caller.uid);
    if (!self) {
        throw ApiError(Error::NoSuchUser,
                       "uid " + std::to_string(caller.uid) + " has no user name");
    }
    return {self->name, self->uid, caller.is_root()};
}

void AccessControl::authorize(const Caller& caller, Target& target, Action action,
                              bool must_exist) const {
    const PrivilegedGroups privileged = groups(caller, action);
    target.caller_acts_for_anyone = may_act_for_anyone(caller, action, privileged);
    if (!target.uid) {
        if (!target.caller_acts_for_anyone) {
            refuse(caller, target.name, action);
        }
        if (must_exist) {
            throw ApiError(Error::NoSuchUser, "no such user: " + target.name);
        }
        return;
    }
    if (!may_act(caller, *target.uid, action, privileged)) {
        refuse(caller, target.name, action);
    }
}

Target AccessControl::resolve(const Caller& caller, const std::string& user, Action action,
                              bool must_exist) const {
    if (user.empty()) {
        return caller_itself(caller);
    }
    Target target = look_up(user);
    authorize(caller, target, action, must_exist);
    return target;
}

bool AccessControl::acts_for_everyone(const Caller& caller) const {
    return may_act_for_anyone(caller, Action::Manage, groups(caller, Action::Manage));
}

void AccessControl::require_admin(const Caller& caller, std::string_view what) const {
    if (!acts_for_everyone(caller)) {
        log_.record(AuditEvent::AccessDenied, {.caller_uid = caller.uid,
                                               .result = "refused",
                                               .reason = "may not see " + std::string(what)});
        throw ApiError(Error::AccessDenied,
                       std::string(what) + " is for root and members of " + config_.admin_group);
    }
}

} // namespace apitoken::daemon
