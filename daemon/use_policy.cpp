#include "daemon/use_policy.hpp"

#include "store/network_rules.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>

namespace apitoken::daemon {
namespace {

bool names_service(const store::TokenRecord& record, std::string_view service) {
    return std::find(record.services.begin(), record.services.end(), service) !=
           record.services.end();
}

// The admin's rules from apitokend.conf, as they are now.
std::optional<std::string> policy_rejection(const store::TokenRecord& record, const Config& config,
                                            const UseContext& use) {
    if (config.require_expiry && !record.expires) {
        return "the token never expires, and require_expiry is set";
    }
    if (const auto end = lifetime_end(record, config); end && *end <= use.now) {
        return "the token is older than max_lifetime allows";
    }
    if (config.require_services && record.services.empty()) {
        return "the token names no services, and require_services is set";
    }
    if (!config.allowed_services.empty() &&
        (record.services.empty() || !config.service_allowed(use.service))) {
        return "the service is not in allowed_services";
    }
    if (config.max_idle && idle_since(record) + *config.max_idle <= use.now) {
        return "the token was not used for longer than max_idle";
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> use_rejection(const store::TokenRecord& record, const Config& config,
                                         const UseContext& use) {
    if (record.expired_at(use.now)) {
        return "token expired";
    }
    if (record.rotated() && (!record.grace_until || *record.grace_until <= use.now)) {
        return "the token was rotated and its grace period is over";
    }
    if (!record.services.empty() && !names_service(record, use.service)) {
        return "token not allowed for this service";
    }
    if (!host_allowed(record.hosts, use.host_name)) {
        return "the token is for other hosts (its hosts do not match this host's name)";
    }
    const store::SourceMatch match =
        store::match_sources(record.sources, use.rhost_trusted ? use.rhost : std::string_view());
    if (!store::source_allowed(match)) {
        return "refused by the token's source networks: " +
               std::string(store::source_match_reason(match));
    }
    return policy_rejection(record, config, use);
}

bool host_allowed(const std::vector<std::string>& hosts, std::string_view host_name) {
    if (hosts.empty()) {
        return true;
    }
    const std::string full(host_name);
    const std::string first_label = full.substr(0, full.find('.'));
    return !full.empty() && std::any_of(hosts.begin(), hosts.end(), [&](const std::string& glob) {
        return ::fnmatch(glob.c_str(), full.c_str(), FNM_CASEFOLD) == 0 ||
               ::fnmatch(glob.c_str(), first_label.c_str(), FNM_CASEFOLD) == 0;
    });
}

std::string this_host_name() {
    std::array<char, HOST_NAME_MAX + 1> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) {
        return {};
    }
    return name.data();
}

std::string fleet_host_name(const Config& config) {
    return config.fleet_host_name.empty() ? this_host_name() : config.fleet_host_name;
}

store::TimePoint idle_since(const store::TokenRecord& record) noexcept {
    return record.last_used.value_or(record.created);
}

bool expiring_soon(const store::TokenRecord& record, const Config& config,
                   store::TimePoint now) noexcept {
    return record.expires && *record.expires > now &&
           *record.expires - now <= config.expiry_warning;
}

std::optional<store::TimePoint> lifetime_end(const store::TokenRecord& record,
                                             const Config& config) noexcept {
    if (!config.max_lifetime) {
        return std::nullopt;
    }
    const store::TimePoint end = record.created + *config.max_lifetime;
    const bool imported_with_expiry = record.origin == store::kOriginJenkins && record.expires;
    if (imported_with_expiry || (record.expires && *record.expires <= end)) {
        return std::nullopt;
    }
    return end;
}

} // namespace apitoken::daemon
