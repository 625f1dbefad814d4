#include "cli/token_settings.hpp"

#include "ipc/bus_api.hpp"

#include <algorithm>
#include <charconv>

namespace apitoken::cli {

ipc::Dictionary settings_dictionary(const TokenSettings& settings) {
    ipc::Dictionary out;
    if (settings.name) {
        out.emplace(ipc::key::kName, *settings.name);
    }
    if (settings.description) {
        out.emplace(ipc::key::kDescription, *settings.description);
    }
    if (settings.services) {
        out.emplace(ipc::key::kServices, *settings.services);
    }
    if (settings.sources) {
        out.emplace(ipc::key::kSources, *settings.sources);
    }
    if (settings.hosts) {
        out.emplace(ipc::key::kHosts, *settings.hosts);
    }
    if (settings.expires) {
        const std::int64_t expires =
            *settings.expires == ipc::kExpiresNever ? 0 : *settings.expires;
        out.emplace(ipc::key::kExpires, expires);
    }
    if (settings.max_uses) {
        out.emplace(ipc::key::kMaxUses, *settings.max_uses);
    }
    return out;
}

bool fits_create_token(const TokenSettings& settings) {
    return !settings.name && !settings.description && !settings.sources && !settings.hosts &&
           !settings.max_uses;
}

std::optional<std::uint64_t> parse_max_uses(std::string_view text, std::string& error) {
    std::uint64_t value = 0;
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    const char* end = text.data() + text.size();
    const auto parsed = digits ? std::from_chars(text.data(), end, value)
                               : std::from_chars_result{text.data(), std::errc::invalid_argument};
    if (parsed.ec == std::errc::result_out_of_range ||
        (parsed.ec == std::errc() && parsed.ptr == end && value > ipc::kMaxUsesLimit)) {
        error = "--max-uses: too large, at most " + std::to_string(ipc::kMaxUsesLimit) +
                " (leave it out for no limit)";
        return std::nullopt;
    }
    if (parsed.ec != std::errc() || parsed.ptr != end) {
        error = "--max-uses: \"" + std::string(text.substr(0, 32)) +
                "\" is not a whole number (1 for a one-time token)";
        return std::nullopt;
    }
    if (value == 0) {
        error = "--max-uses: at least 1 (1 for a one-time token; leave it out for no limit)";
        return std::nullopt;
    }
    return value;
}

ipc::Dictionary rotate_dictionary(std::int64_t grace, std::optional<std::int64_t> expires) {
    ipc::Dictionary out{{ipc::key::kGrace, grace}};
    if (expires) {
        out.emplace(ipc::key::kExpires, *expires == ipc::kExpiresNever ? 0 : *expires);
    }
    return out;
}

ipc::Dictionary list_filter_dictionary(const ListFilter& filter) {
    ipc::Dictionary out;
    if (filter.all_users) {
        out.emplace(ipc::key::kAllUsers, true);
    }
    if (filter.expiring_within) {
        out.emplace(ipc::key::kExpiringWithin, *filter.expiring_within);
    }
    if (filter.unused_for) {
        out.emplace(ipc::key::kUnusedFor, *filter.unused_for);
    }
    return out;
}

ipc::Dictionary revoke_filter_dictionary(const RevokeFilter& filter) {
    ipc::Dictionary out;
    if (filter.unused_for) {
        out.emplace(ipc::key::kUnusedFor, *filter.unused_for);
    }
    if (filter.expired) {
        out.emplace(ipc::key::kExpired, true);
    }
    if (filter.all_users) {
        out.emplace(ipc::key::kAllUsers, true);
    }
    if (filter.dry_run) {
        out.emplace(ipc::key::kDryRun, true);
    }
    return out;
}

} // namespace apitoken::cli
