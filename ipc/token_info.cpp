#include "ipc/token_info.hpp"

#include "ipc/bus_api.hpp"

namespace apitoken::ipc {
namespace {

template <typename T>
void take(const Dictionary& dictionary, const char* name, T& out) {
    bool wrong_type = false;
    if (auto value = value_of<T>(dictionary, name, wrong_type)) {
        out = std::move(*value);
    }
}

DictionaryList recent_sources_of(const TokenInfo& info) {
    DictionaryList list;
    for (const auto& source : info.recent_sources) {
        list.push_back({{key::kRhost, source.rhost},
                        {key::kService, source.service},
                        {key::kFirstUsed, source.first_used},
                        {key::kLastUsed, source.last_used},
                        {key::kCount, source.count}});
    }
    return list;
}

} // namespace

Dictionary dictionary_of(const TokenInfo& info) {
    return {{key::kId, info.id},
            {key::kName, info.name},
            {key::kUser, info.user},
            {key::kUid, info.uid},
            {key::kCreated, info.created},
            {key::kExpires, info.expires},
            {key::kLastUsed, info.last_used},
            {key::kUseCount, info.use_count},
            {key::kLastService, info.last_service},
            {key::kLastRhost, info.last_rhost},
            {key::kLastHost, info.last_host},
            {key::kServices, info.services},
            {key::kOrphaned, info.orphaned},
            {key::kDescription, info.description},
            {key::kSources, info.sources},
            {key::kMaxUses, info.max_uses},
            {key::kHosts, info.hosts},
            {key::kRecentSources, recent_sources_of(info)},
            {key::kOrigin, info.origin},
            {key::kOriginId, info.origin_id},
            {key::kRotatedFrom, info.rotated_from},
            {key::kRotatedTo, info.rotated_to},
            {key::kGraceUntil, info.grace_until},
            {key::kCreatedBy, info.created_by},
            {key::kExpiringSoon, info.expiring_soon}};
}

TokenInfo token_info_of(const Dictionary& dictionary) {
    TokenInfo info;
    take(dictionary, key::kId, info.id);
    take(dictionary, key::kName, info.name);
    take(dictionary, key::kUser, info.user);
    take(dictionary, key::kUid, info.uid);
    take(dictionary, key::kCreated, info.created);
    take(dictionary, key::kExpires, info.expires);
    take(dictionary, key::kLastUsed, info.last_used);
    take(dictionary, key::kUseCount, info.use_count);
    take(dictionary, key::kLastService, info.last_service);
    take(dictionary, key::kLastRhost, info.last_rhost);
    take(dictionary, key::kLastHost, info.last_host);
    take(dictionary, key::kServices, info.services);
    take(dictionary, key::kOrphaned, info.orphaned);
    take(dictionary, key::kDescription, info.description);
    take(dictionary, key::kSources, info.sources);
    take(dictionary, key::kMaxUses, info.max_uses);
    take(dictionary, key::kHosts, info.hosts);
    DictionaryList recent;
    take(dictionary, key::kRecentSources, recent);
    for (const auto& entry : recent) {
        TokenInfo::RecentSource source;
        take(entry, key::kRhost, source.rhost);
        take(entry, key::kService, source.service);
        take(entry, key::kFirstUsed, source.first_used);
        take(entry, key::kLastUsed, source.last_used);
        take(entry, key::kCount, source.count);
        info.recent_sources.push_back(std::move(source));
    }
    take(dictionary, key::kOrigin, info.origin);
    take(dictionary, key::kOriginId, info.origin_id);
    take(dictionary, key::kRotatedFrom, info.rotated_from);
    take(dictionary, key::kRotatedTo, info.rotated_to);
    take(dictionary, key::kGraceUntil, info.grace_until);
    take(dictionary, key::kCreatedBy, info.created_by);
    take(dictionary, key::kExpiringSoon, info.expiring_soon);
    return info;
}

} // namespace apitoken::ipc
