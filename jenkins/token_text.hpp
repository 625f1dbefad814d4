#pragma once

#include "jenkins/jenkins_records.hpp"

#include <optional>
#include <string_view>

namespace apitoken::jenkins {

// The text forms of a HashedToken's uuid and hash. Apart from the XML
// walking so that code without libxml2 (the fuzzer's checks, the importer)
// can use them.

// Jenkins' UUID.randomUUID().toString(): 8-4-4-4-12 hex digits.
[[nodiscard]] bool is_uuid(std::string_view text);

// 64 hex digits (either case: Jenkins' Util.fromHexString reads both) as
// bytes; nullopt for anything else.
[[nodiscard]] std::optional<Sha256> parse_sha256_hex(std::string_view text);

} // namespace apitoken::jenkins
