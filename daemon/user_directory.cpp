#include "daemon/user_directory.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace apitoken::daemon {
namespace {

constexpr std::size_t kInitialBuffer = 1024;
constexpr std::size_t kMaxBuffer = std::size_t{1} << 20U;

// Runs a *_r lookup, growing the buffer on ERANGE, and converts the entry
// with `convert` while the buffer its strings point into is still alive.
template <typename Entry, typename Result, typename Lookup, typename Convert>
std::optional<Result> nss_lookup(Lookup&& lookup, Convert&& convert) {
    std::vector<char> buffer(kInitialBuffer);
    for (;;) {
        Entry entry{};
        Entry* result = nullptr;
        const int rc = lookup(&entry, buffer.data(), buffer.size(), &result);
        if (rc == ERANGE && buffer.size() < kMaxBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        // "Not found" comes back as 0 (or, from some modules, as ENOENT).
        if (rc == 0 || rc == ENOENT || rc == ESRCH) {
            return result != nullptr ? std::optional<Result>(convert(*result)) : std::nullopt;
        }
        throw UserDirectoryError("user database lookup failed: " +
                                 std::generic_category().message(rc));
    }
}

UserEntry to_user(const passwd& pw) {
    return {pw.pw_name, pw.pw_uid};
}

} // namespace

std::optional<UserEntry> user_by_name(std::string_view name) {
    const std::string key(name);
    return nss_lookup<passwd, UserEntry>(
        [&](passwd* entry, char* buf, std::size_t size, passwd** out) {
            return ::getpwnam_r(key.c_str(), entry, buf, size, out);
        },
        to_user);
}

std::optional<UserEntry> user_by_uid(uid_t uid) {
    return nss_lookup<passwd, UserEntry>(
        [&](passwd* entry, char* buf, std::size_t size, passwd** out) {
            return ::getpwuid_r(uid, entry, buf, size, out);
        },
        to_user);
}

std::optional<gid_t> group_by_name(std::string_view name) {
    const std::string key(name);
    return nss_lookup<group, gid_t>(
        [&](group* entry, char* buf, std::size_t size, group** out) {
            return ::getgrnam_r(key.c_str(), entry, buf, size, out);
        },
        [](const group& gr) { return gr.gr_gid; });
}

} // namespace apitoken::daemon
