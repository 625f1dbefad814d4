#pragma once

// import-jenkins without the bus: which Jenkins tokens go to which local
// user, which are skipped and why, and the ImportTokens entries they
// become. Pure functions of the JENKINS_HOME read, the user map, the time
// and "does this local user exist", so that unit tests pin them down.

#include "cli/user_map.hpp"
#include "ipc/dictionary.hpp"
#include "jenkins/jenkins_records.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::cli {

// A Jenkins user's tokens that go to apitokend in one ImportTokens call.
struct UserImport {
    std::string jenkins_user;
    std::string local_user;
    std::vector<jenkins::JenkinsToken> tokens;
};

// A token not sent, and why: a report, not a failure.
struct Skipped {
    std::string jenkins_user;
    std::string token_name;
    std::string token_uuid;
    std::string reason;
};

struct ImportPlan {
    std::vector<UserImport> users; // in the home's order (sorted by Jenkins id)
    std::vector<Skipped> skipped;
};

// Whether a local account of that name exists (getpwnam in the command).
using LocalUserExists = std::function<bool(const std::string&)>;

// Every token of every Jenkins user with tokens: skipped when the user has
// no local account ("no local user NAME"), or the token expired (expires <=
// now: "expired in Jenkins on DAY; not imported"); else sent. Legacy
// (version 10) tokens are sent like current ones.
[[nodiscard]] ImportPlan plan_import(const jenkins::JenkinsHome& home, const UserMap& map,
                                     const LocalUserExists& exists, std::int64_t now);

// Why `user`'s tokens cannot go in one ImportTokens call (more than
// ipc::kMaxImportTokens), or nullopt.
[[nodiscard]] std::optional<std::string> too_many_tokens(const UserImport& user);

// The day a Jenkins expiry names (the day before the first second after
// it), in local time: "2024-01-31".
[[nodiscard]] std::string expiry_day(std::int64_t expires);

// 64 lowercase hex digits.
[[nodiscard]] std::string sha256_hex(const jenkins::Sha256& hash);

// One ImportTokens entry (bus_api.hpp): origin_id, name, jenkins_hash,
// created, expires, last_used (0 = none), use_count, services (only when
// some are given), dry_run (only when true).
[[nodiscard]] ipc::Dictionary import_entry(const jenkins::JenkinsToken& token,
                                           const std::vector<std::string>& services, bool dry_run);
[[nodiscard]] std::vector<ipc::Dictionary>
import_entries(const UserImport& user, const std::vector<std::string>& services, bool dry_run);

} // namespace apitoken::cli
