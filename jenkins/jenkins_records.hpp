#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::jenkins {

// What a JENKINS_HOME holds about API tokens, as plain records: no XML, no
// libxml2 type. The importer (apitokenctl import-jenkins) maps these onto
// apitoken's own records; this layer only reads.

using UnixSeconds = std::int64_t;

// SHA-256 of the token text Jenkins hashed (see HashVersion). Not a secret
// by itself, but it is enough to check guesses offline: never log it.
using Sha256 = std::array<std::uint8_t, 32>;

// value/version of a Jenkins HashedToken. What the user types and what was
// hashed:
//   current: "11" + 32 hex; Jenkins hashes the 32 characters after the
//            first two (and drops any two first characters unchecked).
//   legacy:  the 32-hex token of Jenkins < 2.129, migrated into the store;
//            Jenkins hashes the whole 32-character string.
// The hash is SHA-256 of 32 hex characters in both cases.
enum class HashVersion : std::uint8_t { legacy = 10, current = 11 };

struct JenkinsToken {
    std::string uuid; // Jenkins' id of the token; links it to its statistics
    std::string name; // as Jenkins shows it; may be empty
    // ApiTokenStore_-HashedToken/creationDate. Absent for a legacy token that
    // Jenkins migrated from the encrypted <apiToken> (it did not know when).
    std::optional<UnixSeconds> created;
    // expirationDate (Jenkins 2.548+) is a day without a time; Jenkins
    // accepts the token through that whole day in the server's local time
    // zone (LocalDate.now()). Kept as the first second after that day, in
    // this process's local time zone (TZ): apitoken treats a token as expired
    // when expires <= now, so "valid through the day" maps exactly. nullopt:
    // never expires.
    std::optional<UnixSeconds> expires;
    HashVersion version = HashVersion::current;
    Sha256 sha256{};
    // From apiTokenStats.xml; 0 / nullopt when the file or the entry is
    // missing, or the file was refused.
    std::uint32_t use_count = 0;
    std::optional<UnixSeconds> last_used;
};

struct JenkinsUser {
    std::string id;                   // <id> of config.xml, never the directory name
    std::filesystem::path config;     // users/<dir>/config.xml
    std::vector<JenkinsToken> tokens; // in the file's order
};

// Something that was not imported, or not completely: the file it concerns
// and why, for the admin. Never contains a hash.
struct Problem {
    std::filesystem::path path;
    std::string message;
};

struct JenkinsHome {
    std::vector<JenkinsUser> users; // sorted by id
    std::vector<Problem> problems;  // in the order found
};

} // namespace apitoken::jenkins
