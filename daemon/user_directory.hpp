#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// A user as NSS knows it now.
struct UserEntry {
    std::string name;
    uid_t uid = 0;
};

// NSS itself failed (an LDAP server down, say): not the same as "no such user".
class UserDirectoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Lookups through NSS (getpwnam_r and friends), so users from LDAP or SSSD
// count as much as those in /etc/passwd. nullopt means "no such entry".
[[nodiscard]] std::optional<UserEntry> user_by_name(std::string_view name);
[[nodiscard]] std::optional<UserEntry> user_by_uid(uid_t uid);
[[nodiscard]] std::optional<gid_t> group_by_name(std::string_view name);

} // namespace apitoken::daemon
