#include "daemon/authorization.hpp"

namespace apitoken::daemon {

bool may_act_for_anyone(const Caller& caller, Action action, const PrivilegedGroups& groups) {
    if (caller.is_root()) {
        return true;
    }
    const auto& group = action == Action::Authenticate ? groups.auth : groups.admin;
    return group.has_value() && caller.in_group(*group);
}

bool may_act(const Caller& caller, uid_t target_uid, Action action,
             const PrivilegedGroups& groups) {
    return caller.uid == target_uid || may_act_for_anyone(caller, action, groups);
}

} // namespace apitoken::daemon
