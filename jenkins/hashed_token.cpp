#include "jenkins/hashed_token.hpp"

#include "jenkins/jenkins_dates.hpp"
#include "jenkins/token_text.hpp"
#include "jenkins/xml_nodes.hpp"

#include <string>

namespace apitoken::jenkins {

namespace {

HashVersion read_version(const xmlNode& value) {
    const std::string version = required_child_text(value, "version");
    if (version == "11") {
        return HashVersion::current;
    }
    if (version == "10") {
        return HashVersion::legacy;
    }
    // Not echoed whole: it is the file's text, maybe long or odd.
    throw FormatError("unknown hash version (not 10 or 11)");
}

Sha256 read_hash(const xmlNode& value) {
    const auto hash = parse_sha256_hex(required_child_text(value, "hash"));
    if (!hash) {
        throw FormatError("<hash> is not 64 hex digits");
    }
    return *hash;
}

std::optional<UnixSeconds> read_creation_date(const xmlNode& entry) {
    const auto text = optional_child_text(entry, "creationDate");
    if (!text) {
        return std::nullopt;
    }
    const auto seconds = parse_xstream_date(*text);
    if (!seconds) {
        throw FormatError("<creationDate> is not a date as XStream writes it");
    }
    return seconds;
}

std::optional<UnixSeconds> read_expiration_date(const xmlNode& entry) {
    const auto text = optional_child_text(entry, "expirationDate");
    if (!text) {
        return std::nullopt;
    }
    const auto day = parse_local_date(*text);
    if (!day) {
        throw FormatError("<expirationDate> is not a yyyy-MM-dd date");
    }
    return end_of_local_day(*day);
}

} // namespace

JenkinsToken read_hashed_token(const xmlNode& entry) {
    JenkinsToken token;
    token.uuid = required_child_text(entry, "uuid");
    if (!is_uuid(token.uuid)) {
        throw FormatError("<uuid> is not a UUID");
    }
    token.name = optional_child_text(entry, "name").value_or("");
    token.created = read_creation_date(entry);
    token.expires = read_expiration_date(entry);
    const xmlNode& value = required_child(entry, "value");
    token.version = read_version(value);
    token.sha256 = read_hash(value);
    return token;
}

} // namespace apitoken::jenkins
