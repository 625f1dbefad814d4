#pragma once

#include "jenkins/jenkins_records.hpp"

#include <libxml/tree.h>

#include <string_view>

namespace apitoken::jenkins {

inline constexpr std::string_view kHashedTokenElement =
    "jenkins.security.apitoken.ApiTokenStore_-HashedToken";

// One <jenkins.security.apitoken.ApiTokenStore_-HashedToken> (XStream writes
// a field per element, absent when null):
//   uuid, name, creationDate (java.util.Date), expirationDate (LocalDate,
//   2.548+), value/version ("10" or "11"), value/hash (64 hex).
// Without its statistics. Throws FormatError naming what is wrong; the
// message never holds the hash.
[[nodiscard]] JenkinsToken read_hashed_token(const xmlNode& entry);

} // namespace apitoken::jenkins
