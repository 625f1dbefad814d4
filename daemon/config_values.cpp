#include "daemon/config_values.hpp"

#include "contract/duration.hpp"
#include "store/name_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace apitoken::daemon::config_values {
namespace {

// libsodium's limits live in HashParams::validate(); checking each key's
// field alone (the other at its default) lets the error name that key's line.
Problem hash_params_problem(const store::HashParams& params) {
    try {
        params.validate();
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return {};
}

} // namespace

// Keys and values may hold any bytes (a binary file, an editor accident, an
// attacker): the message stays one printable line whatever they are.
std::string printable(std::string_view text) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string shown;
    for (const char c : text.substr(0, kShownBytes)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7F && c != '\\') {
            shown += c;
        } else {
            shown += "\\x";
            shown += kHex[byte >> 4U];
            shown += kHex[byte & 0x0FU];
        }
    }
    if (text.size() > kShownBytes) {
        shown += "...";
    }
    return shown;
}

std::string quoted(std::string_view value) {
    // Appending (rather than "'" + ...) also avoids a false -Wrestrict of
    // GCC 12 at -O3.
    std::string out = "'";
    out += printable(value);
    out += '\'';
    return out;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view kBlank = " \t\r\f\v";
    const auto first = text.find_first_not_of(kBlank);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

Problem set_time_cost(Config& config, std::string_view value) {
    unsigned long long cost = 0;
    Problem problem =
        parse_number(value, 0ULL, std::numeric_limits<unsigned long long>::max(), cost);
    if (problem.empty()) {
        store::HashParams params = store::HashParams::defaults();
        params.opslimit = cost;
        problem = hash_params_problem(params);
    }
    if (problem.empty()) {
        config.hash.opslimit = cost;
    }
    return problem;
}

Problem set_memory_kib(Config& config, std::string_view value) {
    std::size_t kib = 0;
    Problem problem =
        parse_number(value, std::size_t{0}, std::numeric_limits<std::size_t>::max() / 1024, kib);
    if (problem.empty()) {
        store::HashParams params = store::HashParams::defaults();
        params.memlimit = kib * 1024;
        problem = hash_params_problem(params);
    }
    if (problem.empty()) {
        config.hash.memlimit = kib * 1024;
    }
    return problem;
}

// A duration in [min, max]; `never_allowed` also accepts "never" (nullopt).
Problem parse_duration_value(std::string_view value, seconds min, seconds max,
                             std::optional<seconds>& out, bool never_allowed) {
    if (never_allowed && value == "never") {
        out.reset();
        return {};
    }
    const auto duration = parse_duration(value);
    if (!duration) {
        return quoted(value) + " is not a duration (a positive number and a unit s, m, h, d or " +
               "w, such as 90s, 15m, 12h, 30d or 2w" + (never_allowed ? "; or never)" : ")");
    }
    if (*duration < min || *duration > max) {
        return quoted(value) + " is out of range (" + format_duration(min) + " to " +
               format_duration(max) + ")";
    }
    out = duration;
    return {};
}

Problem set_duration(std::string_view value, seconds min, seconds max, seconds& out) {
    std::optional<seconds> duration;
    Problem problem = parse_duration_value(value, min, max, duration, false);
    if (problem.empty()) {
        out = *duration;
    }
    return problem;
}

Problem set_lifetime(std::string_view value, std::optional<seconds>& out) {
    return parse_duration_value(value, seconds{1}, kMaxDuration, out, true);
}

// Bytes, or with a suffix K, M or G (powers of 1024), such as 512M or 4G. Below
// 1M, LMDB could not even hold its own pages and a few tokens.
Problem set_store_size(std::string_view value, std::size_t& out) {
    constexpr std::size_t kMinStoreSize = std::size_t{1} << 20U;
    unsigned shift = 0;
    std::string_view digits = value;
    switch (value.back()) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: break;
    }
    if (shift != 0) {
        digits.remove_suffix(1);
    }
    std::size_t count = 0;
    Problem problem = parse_number(digits, std::size_t{0},
                                   std::numeric_limits<std::size_t>::max() >> shift, count);
    if (!problem.empty()) {
        return quoted(value) + " is not a size in range (such as 512M or 4G)";
    }
    if ((count << shift) < kMinStoreSize) {
        return quoted(value) + " is too small (at least 1M)";
    }
    out = count << shift;
    return {};
}

Problem set_bool(std::string_view value, bool& out) {
    constexpr std::array<std::string_view, 4> kTrue{"yes", "true", "1", "on"};
    constexpr std::array<std::string_view, 4> kFalse{"no", "false", "0", "off"};
    if (std::find(kTrue.begin(), kTrue.end(), value) != kTrue.end()) {
        out = true;
        return {};
    }
    if (std::find(kFalse.begin(), kFalse.end(), value) != kFalse.end()) {
        out = false;
        return {};
    }
    return quoted(value) + " is not yes, no, true, false, on, off, 1 or 0";
}

// Group names are looked up with getgrnam: a NUL would cut the name short and
// ':' cannot occur in /etc/group. Spaces are allowed, as directory services
// (sssd, winbind) have groups such as "domain admins".
Problem set_group(std::string_view value, std::string& out) {
    constexpr std::size_t kMaxGroupBytes = 256;
    const bool control = std::any_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
    if (control || value.find(':') != std::string_view::npos || value.size() > kMaxGroupBytes) {
        return quoted(value) + " is not a group name (at most 256 bytes, no control " +
               "characters, no ':')";
    }
    out = value;
    return {};
}

// PAM service names separated by blanks and/or commas ("sshd dovecot",
// "sshd, dovecot"); an empty value is the empty list (any service). A name
// given twice is kept once.
Problem set_services(std::string_view value, std::vector<std::string>& out) {
    constexpr std::string_view kSeparators = " \t,";
    std::vector<std::string> services;
    while (!value.empty()) {
        const std::string_view service = value.substr(0, value.find_first_of(kSeparators));
        value.remove_prefix(service.size());
        value.remove_prefix(std::min(value.size(), value.find_first_not_of(kSeparators)));
        if (service.empty()) {
            continue;
        }
        if (const std::string problem = store::service_name_problem(service); !problem.empty()) {
            return quoted(service) + ": " + problem;
        }
        if (std::find(services.begin(), services.end(), service) == services.end()) {
            services.emplace_back(service);
        }
    }
    out = std::move(services);
    return {};
}

// A libpq connection string: printable text (a password may be in it).
Problem set_conninfo(std::string_view value, std::string& out) {
    constexpr std::size_t kMaxConninfoBytes = 2048;
    const bool control = std::any_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
    if (control || value.size() > kMaxConninfoBytes) {
        return "is not a libpq connection string (printable text, at most 2048 bytes)";
    }
    out = value;
    return {};
}

// An absolute path that fits a Unix socket address, or "" (no direct socket).
Problem set_socket_path(std::string_view value, std::string& out) {
    constexpr std::size_t kMaxSocketPathBytes = 107; // sockaddr_un.sun_path, with its NUL
    const bool control = std::any_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
    if (!value.empty() && (value.front() != '/' || control || value.size() > kMaxSocketPathBytes)) {
        return "is not an absolute socket path (at most 107 bytes) or empty";
    }
    out = value;
    return {};
}

// A host name as DNS spells it: letters, digits, '-' and '.', at most 253;
// empty: the host's own name.
Problem set_host_name(std::string_view value, std::string& out) {
    if (value.empty()) {
        out.clear();
        return {};
    }
    constexpr std::size_t kMaxHostNameBytes = 253;
    const bool bad = std::any_of(value.begin(), value.end(), [](char c) {
        return (std::isalnum(static_cast<unsigned char>(c)) == 0) && c != '-' && c != '.';
    });
    if (bad || value.size() > kMaxHostNameBytes) {
        return quoted(value) + " is not a host name (letters, digits, '-' and '.', at most 253)";
    }
    out = value;
    return {};
}

Problem set_create_scope(std::string_view value, bool& this_host) {
    if (value != "fleet" && value != "this-host") {
        return quoted(value) + " is not fleet or this-host";
    }
    this_host = value == "this-host";
    return {};
}

} // namespace apitoken::daemon::config_values
