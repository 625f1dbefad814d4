#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::jenkins {

// Directory name → user id key, from users/users.xml.
using UserDirectoryIds = std::map<std::string, std::string>;

struct UsersIndexParse {
    std::optional<UserDirectoryIds> ids; // nullopt: the file is refused
    std::string error;
};

// users/users.xml of Jenkins 2.150-2.523 (hudson.model.UserIdMapper, deleted
// by the migration to hashed directory names in 2.524):
//   <idToDirectoryNameMap><entry><string>ID KEY</string>
//                                <string>DIRECTORY</string></entry>...
// The key is IdStrategy.keyFor(id) (lower case for the default
// case-insensitive strategy), so it is used only for a config.xml without
// its own <id>. A directory named by two different keys refuses the file.
[[nodiscard]] UsersIndexParse parse_users_index(std::string_view bytes);

} // namespace apitoken::jenkins
