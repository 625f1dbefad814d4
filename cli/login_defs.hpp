#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace apitoken::cli {

// The first uid of login accounts, as useradd sees it: UID_MIN in
// /etc/login.defs (shadow's format: "KEY value" lines, '#' comments), 1000
// when the file or the key is missing or the value is no uid.
inline constexpr uid_t kDefaultFirstLoginUid = 1000;
[[nodiscard]] uid_t first_login_uid(std::string_view login_defs);
[[nodiscard]] uid_t first_login_uid_from(const std::string& path = "/etc/login.defs");

} // namespace apitoken::cli
