#pragma once

#include "jenkins/jenkins_records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::jenkins {

// What one users/<dir>/config.xml says about API tokens.
struct UserConfig {
    // <id>; absent in configs of Jenkins before ~1.6 that were never re-saved
    // (users/users.xml or nothing names them then).
    std::optional<std::string> id;
    std::vector<JenkinsToken> tokens; // statistics not filled in
    // Token entries left out, each with why ("token entry 2 (uuid ...): ...").
    std::vector<std::string> skipped;
    // properties/jenkins.security.ApiTokenProperty/apiToken: the encrypted
    // token of Jenkins < 2.129, which only Jenkins' secret key decrypts.
    bool has_encrypted_api_token = false;
};

struct UserConfigParse {
    std::optional<UserConfig> config; // nullopt: the whole file is refused
    std::string error;                // why
};

// Parses config.xml bytes (<user> root, XStream's shape). A file that is not
// safe or not well-formed XML, or has another root, is refused whole; a
// token entry that is wrong is skipped and said in `skipped`.
[[nodiscard]] UserConfigParse parse_user_config(std::string_view bytes);

} // namespace apitoken::jenkins
