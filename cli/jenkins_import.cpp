#include "cli/jenkins_import.hpp"

#include "ipc/bus_api.hpp"

#include <array>
#include <ctime>

namespace apitoken::cli {
namespace {

namespace key = ipc::key;

Skipped skipped_token(const std::string& jenkins_user, const jenkins::JenkinsToken& token,
                      std::string reason) {
    return {jenkins_user, token.name, token.uuid, std::move(reason)};
}

// One Jenkins user's part of the plan.
void plan_user(const jenkins::JenkinsUser& user, const UserMap& map, const LocalUserExists& exists,
               std::int64_t now, ImportPlan& plan) {
    UserImport import{user.id, map.local_user(user.id), {}};
    const bool has_account = exists(import.local_user);
    for (const jenkins::JenkinsToken& token : user.tokens) {
        if (!has_account) {
            plan.skipped.push_back(
                skipped_token(user.id, token, "no local user " + import.local_user));
        } else if (token.expires && *token.expires <= now) {
            plan.skipped.push_back(skipped_token(
                user.id, token,
                "expired in Jenkins on " + expiry_day(*token.expires) + "; not imported"));
        } else {
            import.tokens.push_back(token);
        }
    }
    if (!import.tokens.empty()) {
        plan.users.push_back(std::move(import));
    }
}

} // namespace

ImportPlan plan_import(const jenkins::JenkinsHome& home, const UserMap& map,
                       const LocalUserExists& exists, std::int64_t now) {
    ImportPlan plan;
    for (const jenkins::JenkinsUser& user : home.users) {
        if (!user.tokens.empty()) {
            plan_user(user, map, exists, now, plan);
        }
    }
    return plan;
}

std::optional<std::string> too_many_tokens(const UserImport& user) {
    if (user.tokens.size() <= ipc::kMaxImportTokens) {
        return std::nullopt;
    }
    return std::to_string(user.tokens.size()) + " tokens to import, more than one call takes (" +
           std::to_string(ipc::kMaxImportTokens) + "); none of this user's tokens imported";
}

std::string expiry_day(std::int64_t expires) {
    const auto last_second = static_cast<std::time_t>(expires - 1);
    std::tm local{};
    if (::localtime_r(&last_second, &local) == nullptr) {
        return "(an unknown day)";
    }
    std::array<char, 32> text{};
    const std::size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%d", &local);
    return {text.data(), length};
}

std::string sha256_hex(const jenkins::Sha256& hash) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    std::string hex;
    hex.reserve(hash.size() * 2);
    for (const std::uint8_t byte : hash) {
        hex.push_back(kDigits[byte >> 4U]);
        hex.push_back(kDigits[byte & 0x0fU]);
    }
    return hex;
}

ipc::Dictionary import_entry(const jenkins::JenkinsToken& token,
                             const std::vector<std::string>& services, bool dry_run) {
    ipc::Dictionary entry{
        {key::kOriginId, token.uuid},
        {key::kName, token.name},
        {key::kJenkinsHash, sha256_hex(token.sha256)},
        {key::kCreated, token.created.value_or(0)},
        {key::kExpires, token.expires.value_or(0)},
        {key::kLastUsed, token.last_used.value_or(0)},
        {key::kUseCount, std::uint64_t{token.use_count}},
    };
    if (!services.empty()) {
        entry.emplace(key::kServices, services);
    }
    if (dry_run) {
        entry.emplace(key::kDryRun, true);
    }
    return entry;
}

std::vector<ipc::Dictionary>
import_entries(const UserImport& user, const std::vector<std::string>& services, bool dry_run) {
    std::vector<ipc::Dictionary> entries;
    entries.reserve(user.tokens.size());
    for (const jenkins::JenkinsToken& token : user.tokens) {
        entries.push_back(import_entry(token, services, dry_run));
    }
    return entries;
}

} // namespace apitoken::cli
