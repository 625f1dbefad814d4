#pragma once

// import-jenkins --user-map=FILE: which local account receives each Jenkins
// user's tokens.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::cli {

// Jenkins ids to local user names; an id not listed keeps its own name.
class UserMap {
public:
    // The local user for `jenkins_id`.
    [[nodiscard]] std::string local_user(std::string_view jenkins_id) const;
    // False when `jenkins_id` is listed already.
    bool add(std::string jenkins_id, std::string local_user);
    // Whether the map lists `jenkins_id` (root chose its local user).
    [[nodiscard]] bool lists(std::string_view jenkins_id) const {
        return local_of_.contains(jenkins_id);
    }
    [[nodiscard]] std::size_t size() const { return local_of_.size(); }

private:
    std::map<std::string, std::string, std::less<>> local_of_;
};

struct UserMapParse {
    std::optional<UserMap> map; // nullopt: `error` says why
    std::string error;          // "FILE:LINE: what is wrong"
};

// The map file's text: one "JENKINS_ID LOCAL_USER" per line, separated by
// blanks (spaces, tabs); blank lines, and lines whose first word starts
// with #, are ignored, and so is a third word that starts with # (a
// comment after the pair). Anything else (one word, three, an id given
// twice) is an error naming `file_name`:LINE, with the text escaped.
[[nodiscard]] UserMapParse parse_user_map(std::string_view text, const std::string& file_name);

// Reads and parses FILE (an error, too, when it cannot be read or is
// larger than 16 MiB).
[[nodiscard]] UserMapParse read_user_map(const std::filesystem::path& file);

} // namespace apitoken::cli
