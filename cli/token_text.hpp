#pragma once

// Tokens as people read them: the cells of list's table, show's page, and
// what update changed. Pure functions of the token and the time, so that
// unit tests pin them down; every free text escaped (shown()).

#include "ipc/token_info.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace apitoken::cli {

// "any" for no restriction, else the entries joined with commas.
[[nodiscard]] std::string list_text(const std::vector<std::string>& entries,
                                    const std::string& none = "any");

// The NAME cell: the name, marked " (orphaned)" (root and admins only see
// such tokens) and " (jenkins)" for a token imported from Jenkins.
[[nodiscard]] std::string name_cell(const ipc::TokenInfo& token);
// The EXPIRES cell: "in 29 days", "in 3 days (soon)" (within the daemon's
// expiry_warning), "never", "expired", "rotated, until 2027-01-31 14:05".
[[nodiscard]] std::string expires_cell(const ipc::TokenInfo& token, std::int64_t now);
// The USES cell: "5", or "5/10" with a use limit.
[[nodiscard]] std::string uses_cell(const ipc::TokenInfo& token);

// list's table: ID, [OWNER,] NAME, CREATED, EXPIRES, LAST USED, USES,
// SERVICES.
[[nodiscard]] std::vector<std::string> list_header(bool with_owner);
[[nodiscard]] std::vector<std::string> list_row(const ipc::TokenInfo& token, std::int64_t now,
                                                bool with_owner);

// The user name of a uid ("" when unknown), for "created by".
using UserNameOf = std::function<std::string(std::uint32_t)>;

// show's page: one "label: value" line per field, recent sources as a
// table at the end.
[[nodiscard]] std::vector<std::vector<std::string>>
show_rows(const ipc::TokenInfo& token, std::int64_t now, const UserNameOf& user_name_of);
[[nodiscard]] std::vector<std::vector<std::string>> recent_sources_rows(const ipc::TokenInfo& token,
                                                                        std::int64_t now);

// What update changed: the bus key and the value before and after, for
// each field that differs (name, description, services, sources, hosts,
// expires).
struct Change {
    std::string key;
    std::string before;
    std::string after;
};
[[nodiscard]] std::vector<Change> changes_between(const ipc::TokenInfo& before,
                                                  const ipc::TokenInfo& after);

} // namespace apitoken::cli
