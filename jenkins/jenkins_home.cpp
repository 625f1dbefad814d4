#include "jenkins/jenkins_home.hpp"

#include "jenkins/bounded_file.hpp"
#include "jenkins/token_stats.hpp"
#include "jenkins/user_config.hpp"
#include "jenkins/users_index.hpp"

#include <algorithm>
#include <map>
#include <system_error>

namespace apitoken::jenkins {

namespace fs = std::filesystem;

namespace {

// What one walk collects; the users keyed by id, so that two directories
// claiming one id are caught.
struct Walk {
    std::map<std::string, JenkinsUser> users;
    std::vector<Problem> problems;

    void problem(const fs::path& path, std::string message) {
        problems.push_back(Problem{path, std::move(message)});
    }
};

// The bytes of a file, or nullopt when it is missing or refused (then said).
std::optional<std::string> read_file(const fs::path& path, Walk& walk) {
    FileRead read = read_bounded_file(path);
    if (read.status == FileRead::Status::ok) {
        return std::move(read.bytes);
    }
    if (read.status == FileRead::Status::refused) {
        walk.problem(path, std::move(read.error));
    }
    return std::nullopt;
}

UserDirectoryIds read_users_index(const fs::path& users, Walk& walk) {
    const fs::path path = users / "users.xml";
    const auto bytes = read_file(path, walk);
    if (!bytes) {
        return {};
    }
    UsersIndexParse parsed = parse_users_index(*bytes);
    if (!parsed.ids) {
        walk.problem(path, parsed.error + "; config.xml files without <id> cannot be named");
        return {};
    }
    return std::move(*parsed.ids);
}

// The user directories, sorted (a stable order for problems and for which
// of two directories claiming one id wins). Symbolic links are not
// followed: they could lead anywhere on the host.
std::vector<fs::path> user_directories(const fs::path& users, Walk& walk) {
    std::vector<fs::path> directories;
    std::error_code error;
    for (fs::directory_iterator it(users, error), end; !error && it != end; it.increment(error)) {
        std::error_code status_error;
        const fs::file_status status = it->symlink_status(status_error);
        if (fs::is_symlink(status)) {
            walk.problem(it->path(), "a symbolic link: not followed");
        } else if (fs::is_directory(status)) {
            directories.push_back(it->path());
        }
    }
    if (error) {
        walk.problem(users, "cannot list: " + error.message());
    }
    std::sort(directories.begin(), directories.end());
    return directories;
}

std::optional<std::string> user_id(const UserConfig& config, const fs::path& directory,
                                   const UserDirectoryIds& index) {
    if (config.id) {
        return config.id;
    }
    const auto named = index.find(directory.filename().string());
    if (named != index.end()) {
        return named->second;
    }
    return std::nullopt;
}

void report_encrypted_token(const UserConfig& config, const fs::path& path, Walk& walk) {
    const bool has_legacy_copy =
        std::any_of(config.tokens.begin(), config.tokens.end(),
                    [](const JenkinsToken& t) { return t.version == HashVersion::legacy; });
    // Jenkins >= 2.129 keeps a hashed (version 10) copy of it in the token
    // store, which is imported; only a user never loaded since has none.
    if (config.has_encrypted_api_token && !has_legacy_copy) {
        walk.problem(path, "an encrypted legacy <apiToken> (Jenkins < 2.129): not importable "
                           "without Jenkins' secret key, skipped; the user needs a new token");
    }
}

// False when the user's statistics are there but cannot be read: then the
// user is skipped whole (reported), not imported without its counts, which
// a later run could not add (its tokens would be imported already).
bool add_statistics(const fs::path& directory, std::vector<JenkinsToken>& tokens, Walk& walk) {
    const fs::path path = directory / "apiTokenStats.xml";
    FileRead read = read_bounded_file(path);
    if (read.status == FileRead::Status::missing) {
        return true; // Jenkins writes it at the first use
    }
    if (read.status == FileRead::Status::refused) {
        walk.problem(path, read.error + "; the user is skipped (fix or remove the file)");
        return false;
    }
    TokenStatsParse parsed = parse_token_stats(read.bytes);
    if (!parsed.uses) {
        walk.problem(path, parsed.error + "; the user is skipped (fix or remove the file)");
        return false;
    }
    for (JenkinsToken& token : tokens) {
        const auto use = parsed.uses->find(token.uuid);
        if (use != parsed.uses->end()) {
            token.use_count = use->second.use_count;
            token.last_used = use->second.last_used;
        }
    }
    return true;
}

void add_user(JenkinsUser user, Walk& walk) {
    const auto existing = walk.users.find(user.id);
    if (existing != walk.users.end()) {
        walk.problem(user.config,
                     "the same <id> as " + existing->second.config.string() + ", skipped");
        return;
    }
    std::string id = user.id;
    walk.users.emplace(std::move(id), std::move(user));
}

void read_user_directory(const fs::path& directory, const UserDirectoryIds& index, Walk& walk) {
    const fs::path path = directory / "config.xml";
    const auto bytes = read_file(path, walk);
    if (!bytes) {
        return; // no config.xml: not a user directory (Jenkins ignores it too)
    }
    UserConfigParse parsed = parse_user_config(*bytes);
    if (!parsed.config) {
        walk.problem(path, parsed.error + ", skipped");
        return;
    }
    UserConfig& config = *parsed.config;
    auto id = user_id(config, directory, index);
    if (!id) {
        walk.problem(path, "no <id>, and users/users.xml does not name this directory, skipped");
        return;
    }
    for (std::string& skipped : config.skipped) {
        walk.problem(path, std::move(skipped));
    }
    report_encrypted_token(config, path, walk);
    if (!add_statistics(directory, config.tokens, walk)) {
        return;
    }
    add_user(JenkinsUser{std::move(*id), path, std::move(config.tokens)}, walk);
}

} // namespace

JenkinsHome read_jenkins_home(const fs::path& home) {
    Walk walk;
    const fs::path users = home / "users";
    std::error_code error;
    if (!fs::is_directory(users, error)) {
        walk.problem(users, "not a directory: is " + home.string() + " a JENKINS_HOME?");
        return JenkinsHome{{}, std::move(walk.problems)};
    }
    const UserDirectoryIds index = read_users_index(users, walk);
    for (const fs::path& directory : user_directories(users, walk)) {
        read_user_directory(directory, index, walk);
    }
    JenkinsHome result;
    result.users.reserve(walk.users.size());
    for (auto& entry : walk.users) {
        result.users.push_back(std::move(entry.second)); // map order: sorted by id
    }
    result.problems = std::move(walk.problems);
    return result;
}

} // namespace apitoken::jenkins
