#include "cli/token_json.hpp"

#include "cli/time_text.hpp"
#include "ipc/bus_api.hpp"

namespace apitoken::cli {
namespace {

using nlohmann::json;
namespace key = ipc::key;

json optional_time(std::int64_t t) {
    return t == 0 ? json(nullptr) : json(rfc3339(t));
}

json optional_text(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

json recent_sources_json(const ipc::TokenInfo& token) {
    json list = json::array();
    for (const auto& source : token.recent_sources) {
        list.push_back({{key::kRhost, optional_text(source.rhost)},
                        {key::kService, optional_text(source.service)},
                        {key::kFirstUsed, optional_time(source.first_used)},
                        {key::kLastUsed, optional_time(source.last_used)},
                        {key::kCount, source.count}});
    }
    return list;
}

} // namespace

json token_json(const ipc::TokenInfo& t, std::int64_t now) {
    // An owner is named by ListTokensEx; ListTokens (an older daemon) says
    // nothing about owner, uid or creator.
    const bool owner_known = !t.user.empty();
    return {{key::kId, t.id},
            {key::kName, t.name},
            {key::kUser, optional_text(t.user)},
            {key::kUid, owner_known ? json(t.uid) : json(nullptr)},
            {key::kCreated, rfc3339(t.created)},
            {key::kExpires, optional_time(t.expires)},
            {"expired", t.expires != 0 && t.expires <= now},
            {key::kExpiringSoon, t.expiring_soon},
            {key::kLastUsed, optional_time(t.last_used)},
            {key::kUseCount, t.use_count},
            {key::kMaxUses, t.max_uses == 0 ? json(nullptr) : json(t.max_uses)},
            {key::kLastService, optional_text(t.last_service)},
            {key::kLastRhost, optional_text(t.last_rhost)},
            {key::kLastHost, optional_text(t.last_host)},
            {key::kServices, t.services},
            {key::kSources, t.sources},
            {key::kHosts, t.hosts},
            {key::kDescription, t.description},
            {key::kRecentSources, recent_sources_json(t)},
            {key::kOrigin, t.origin.empty() ? std::string("apitoken") : t.origin},
            {key::kOriginId, optional_text(t.origin_id)},
            {key::kRotatedFrom, optional_text(t.rotated_from)},
            {key::kRotatedTo, optional_text(t.rotated_to)},
            {key::kGraceUntil, optional_time(t.grace_until)},
            {key::kCreatedBy, owner_known ? json(t.created_by) : json(nullptr)},
            {key::kOrphaned, t.orphaned}};
}

} // namespace apitoken::cli
