#include "daemon/token_policy.hpp"

#include "daemon/api_error.hpp"
#include "daemon/use_policy.hpp"
#include "ipc/bus_api.hpp"
#include "store/name_rules.hpp"
#include "store/network_rules.hpp"

#include <algorithm>

namespace apitoken::daemon {
namespace {

using ipc::Error;

std::string joined(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& value : values) {
        out += (out.empty() ? "" : ", ") + value;
    }
    return out;
}

std::optional<store::TimePoint> requested_expiry(const Config& config, std::int64_t requested,
                                                 store::TimePoint now) {
    if (requested == ipc::kExpiresDefault) {
        if (config.default_lifetime) {
            return now + *config.default_lifetime;
        }
        return std::nullopt;
    }
    if (requested == ipc::kExpiresNever) {
        if (config.require_expiry) {
            throw ApiError(Error::InvalidArgument,
                           "tokens must expire on this host (require_expiry)");
        }
        return std::nullopt;
    }
    if (requested > kLatestExpiry) {
        throw ApiError(Error::InvalidArgument, "the expiry time is after the year 9999");
    }
    if (requested <= 0) {
        throw ApiError(Error::InvalidArgument, "invalid expiry time");
    }
    const store::TimePoint expiry{std::chrono::seconds{requested}};
    if (expiry <= now) {
        throw ApiError(Error::InvalidArgument, "the expiry time is in the past");
    }
    return expiry;
}

} // namespace

void require_valid(const std::string& problem) {
    if (!problem.empty()) {
        throw ApiError(Error::InvalidArgument, problem);
    }
}

std::string describe_span(std::chrono::seconds span) {
    const auto days = std::chrono::duration_cast<std::chrono::days>(span).count();
    return days >= 1 ? std::to_string(days) + " days" : std::to_string(span.count()) + " seconds";
}

std::optional<store::TimePoint> policy_expiry(const Config& config, std::int64_t requested,
                                              store::TimePoint created, store::TimePoint now) {
    const auto expiry = requested_expiry(config, requested, now);
    if (config.max_lifetime && (!expiry || *expiry > created + *config.max_lifetime)) {
        throw ApiError(Error::InvalidArgument, "tokens may live at most " +
                                                   describe_span(*config.max_lifetime) +
                                                   " on this host (max_lifetime)");
    }
    return expiry;
}

std::vector<std::string> policy_services(const Config& config, std::vector<std::string> services) {
    require_valid(store::services_problem(services));
    std::sort(services.begin(), services.end());
    services.erase(std::unique(services.begin(), services.end()), services.end());
    if (services.empty() && config.services_required()) {
        throw ApiError(Error::InvalidArgument,
                       config.require_services
                           ? "tokens must name the services they are for on this host "
                             "(require_services)"
                           : "tokens must name their services, from: " +
                                 joined(config.allowed_services) + " (allowed_services)");
    }
    for (const auto& service : services) {
        if (!config.service_allowed(service)) {
            throw ApiError(Error::InvalidArgument,
                           "service \"" + service + "\" is not allowed on this host; allowed: " +
                               joined(config.allowed_services) + " (allowed_services)");
        }
    }
    return services;
}

std::vector<std::string> policy_sources(const std::vector<std::string>& sources) {
    require_valid(store::source_networks_problem(sources));
    auto canonical = store::canonical_networks(sources);
    if (!canonical) {
        throw ApiError(Error::InvalidArgument, "invalid source network");
    }
    return *canonical;
}

void check_description(const std::string& description) {
    require_valid(store::description_problem(description));
}

std::uint64_t policy_max_uses(std::uint64_t max_uses) {
    if (max_uses > ipc::kMaxUsesLimit) {
        throw ApiError(Error::InvalidArgument, "max_uses: at most " +
                                                   std::to_string(ipc::kMaxUsesLimit) +
                                                   " (0 for no limit)");
    }
    return max_uses;
}

void check_hosts(const std::vector<std::string>& hosts) {
    require_valid(store::hosts_problem(hosts));
}

std::vector<std::string> policy_hosts(const Config& config, std::vector<std::string> hosts,
                                      std::uint64_t max_uses, bool caller_is_admin) {
    check_hosts(hosts);
    if (!config.fleet()) {
        return hosts;
    }
    const std::string here = fleet_host_name(config);
    if (config.fleet_create_scope_this_host) {
        if (hosts.empty()) {
            hosts = {here};
        } else if (!caller_is_admin && hosts != std::vector<std::string>{here}) {
            throw ApiError(Error::InvalidArgument,
                           "fleet_create_scope = this-host: a token made here is for this host (" +
                               here + ") only; an admin can widen it");
        }
    }
    const bool one_host =
        hosts.size() == 1 && hosts.front().find_first_of("*?[") == std::string::npos;
    if (max_uses != 0 && !one_host) {
        throw ApiError(Error::InvalidArgument,
                       "in fleet mode a token with a use limit must name exactly one host "
                       "(--host=NAME, no wildcards): each host counts uses on its own replica");
    }
    return hosts;
}

} // namespace apitoken::daemon
