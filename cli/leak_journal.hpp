#pragma once

// apitokenctl scan --revoke's own journal record of each token it revoked
// as leaked: where it was found, which apitokend cannot know (apitokend
// logs its own record, with the owner). Never the token itself.

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace apitoken::cli {

// journalctl MESSAGE_ID=8840591edd384018939992b303c249fe (apitokenctl(1)).
inline constexpr std::string_view kLeakRevokedMessageId = "8840591edd384018939992b303c249fe";

// The record's fields, "NAME=value" each: MESSAGE_ID, PRIORITY, MESSAGE,
// SYSLOG_IDENTIFIER, APITOKEN_TOKEN_ID, APITOKEN_FOUND_AT (PATH:LINE),
// APITOKEN_CALLER_UID (journald adds _UID, which a client cannot forge).
[[nodiscard]] std::vector<std::string>
leak_revoked_fields(std::string_view id, std::string_view path, std::uint64_t line, uid_t caller);

// Sends the record (nothing happens where no journal runs).
void log_leak_revoked(std::string_view id, std::string_view path, std::uint64_t line, uid_t caller);

} // namespace apitoken::cli
