#include "daemon/token_import.hpp"

#include "daemon/api_error.hpp"
#include "daemon/token_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "ipc/bus_api.hpp"
#include "store/imported_hash.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

namespace apitoken::daemon {
namespace {

using ipc::Error;

constexpr std::size_t kMaxOriginIdBytes = 64;

// A Jenkins uuid, or what another origin might use: 1-64 of [A-Za-z0-9._-]
// (it is shown and logged).
bool valid_origin_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxOriginIdBytes &&
           std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '_' || c == '-';
           });
}

std::optional<store::TimePoint> time_or_none(std::int64_t seconds) {
    if (seconds == 0) {
        return std::nullopt;
    }
    return store::TimePoint(std::chrono::seconds(seconds));
}

} // namespace

std::vector<store::ImportOutcome>
TokenImporter::import_tokens(const Caller& caller, const std::string& user,
                             const std::vector<ForeignToken>& tokens, bool dry_run) {
    access_.require_admin(caller, "importing tokens");
    const Target target = access_.resolve(caller, user, Action::Manage, true);
    if (tokens.size() > ipc::kMaxImportTokens) {
        throw ApiError(Error::InvalidArgument, "at most " + std::to_string(ipc::kMaxImportTokens) +
                                                   " tokens can be imported in one call");
    }
    const auto now = now_seconds();
    std::vector<store::TokenRecord> records;
    records.reserve(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        try {
            records.push_back(record_of(caller, target, tokens[i], now));
        } catch (const ApiError& error) {
            throw ApiError(error.code(), "token " + std::to_string(i + 1) + ": " + error.what());
        }
    }
    if (records.empty()) {
        return {};
    }
    std::vector<store::ImportOutcome> outcomes = store_.import_tokens(records, dry_run);
    for (std::size_t i = 0; i < outcomes.size() && !dry_run; ++i) {
        if (outcomes[i].imported) {
            log_.record(AuditEvent::TokenImported,
                        {.user = target.name,
                         .token_id = outcomes[i].id.hex(),
                         .caller_uid = caller.uid,
                         .result = "success",
                         .reason = "Jenkins API token " + records[i].origin_id});
        }
    }
    return outcomes;
}

store::TokenRecord TokenImporter::record_of(const Caller& caller, const Target& target,
                                            const ForeignToken& token, store::TimePoint now) const {
    if (!valid_origin_id(token.origin_id)) {
        throw ApiError(Error::InvalidArgument,
                       "origin_id must be 1-64 letters, digits, '.', '_' or '-'");
    }
    store::TokenRecord record;
    record.hash = store::jenkins_hash_from_hex(token.jenkins_hash);
    if (record.hash.empty()) {
        throw ApiError(Error::InvalidArgument, "jenkins_hash must be 64 lowercase hex digits");
    }
    record.id = store::TokenId::random();
    record.user = target.name;
    record.uid = *target.uid;
    record.name = token.name;
    // Not in the future: a creation or use time to come would put the token
    // beyond max_lifetime (counted from its making) and max_idle.
    record.created = std::min(time_or_none(token.created).value_or(now), now);
    record.expires = time_or_none(token.expires);
    if (config_.max_lifetime) {
        // As for a new token: no longer than the policy allows from now.
        const store::TimePoint latest = now + *config_.max_lifetime;
        record.expires = std::min(record.expires.value_or(latest), latest);
    }
    record.services = policy_services(config_, token.services);
    record.use_count = token.use_count;
    record.last_used = time_or_none(token.last_used);
    if (record.last_used) {
        record.last_used = std::min(*record.last_used, now);
    }
    record.origin = store::kOriginJenkins;
    record.origin_id = token.origin_id;
    record.created_by = caller.uid;
    return record;
}

} // namespace apitoken::daemon
