#pragma once

#include "jenkins/jenkins_records.hpp"

#include <filesystem>

namespace apitoken::jenkins {

// Reads every users/*/config.xml of a JENKINS_HOME and its apiTokenStats.xml
// into records. The user id is the <id> inside config.xml (directory names
// are hashed since Jenkins 2.524); users/users.xml (Jenkins 2.150-2.523)
// names the id of an old config.xml that has no <id>.
//
// Never throws (std::bad_alloc aside) and never half-reads: a file that is
// not well-formed, too big, too deep, not UTF-8, has a DOCTYPE (entities) or
// another root element is skipped whole and reported; so is a token entry
// with an unknown version, a bad hash, uuid or date (the user's other tokens
// stay). A refused apiTokenStats.xml is reported and the tokens come without
// statistics. The encrypted <apiToken> of Jenkins < 2.129 cannot be imported
// (Jenkins' secret key would be needed): reported when no legacy (version 10)
// copy of it is in the token store. Symbolic links inside users/ are not
// followed, and no file is read but those three kinds.
[[nodiscard]] JenkinsHome read_jenkins_home(const std::filesystem::path& home);

} // namespace apitoken::jenkins
