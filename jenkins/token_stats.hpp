#pragma once

#include "jenkins/jenkins_records.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::jenkins {

struct TokenUse {
    std::uint32_t use_count = 0;
    std::optional<UnixSeconds> last_used;
};

// By token uuid (exact, as Jenkins compares them).
using TokenUses = std::map<std::string, TokenUse>;

struct TokenStatsParse {
    std::optional<TokenUses> uses; // nullopt: the file is refused
    std::string error;
};

// users/<dir>/apiTokenStats.xml: <jenkins.security.apitoken.ApiTokenStats>
// with tokenStats/jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats
// entries {tokenUuid, lastUseDate?, useCounter?}. Read as Jenkins reads it:
// a negative counter counts as 0, and of entries with the same uuid the
// most recently used one wins (then the bigger counter). Any entry that is
// wrong refuses the whole file: statistics are worth less than a guess.
[[nodiscard]] TokenStatsParse parse_token_stats(std::string_view bytes);

} // namespace apitoken::jenkins
