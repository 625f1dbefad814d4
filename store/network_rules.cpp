#include "store/network_rules.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace apitoken::store {
namespace {

// The longest text inet_pton can accept (INET6_ADDRSTRLEN without the NUL).
constexpr std::size_t kMaxAddressBytes = 45;
constexpr std::size_t kMaxPrefixDigits = 3;
constexpr unsigned kMappedPrefix = 96; // ::ffff:0:0/96 holds the IPv4-mapped addresses

constexpr unsigned bits_of(AddressFamily family) noexcept {
    return family == AddressFamily::ipv4 ? 32 : 128;
}

constexpr std::size_t bytes_of(AddressFamily family) noexcept {
    return family == AddressFamily::ipv4 ? 4 : 16;
}

std::string_view family_name(AddressFamily family) noexcept {
    return family == AddressFamily::ipv4 ? "IPv4" : "IPv6";
}

// The first `bits` (0-8) bits of a byte set.
constexpr std::uint8_t leading_bits(unsigned bits) noexcept {
    return static_cast<std::uint8_t>(0xFF00U >> bits);
}

bool is_ipv4_mapped(const IpAddress& address) noexcept {
    const auto& b = address.bytes;
    return address.family == AddressFamily::ipv6 &&
           std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
           b[10] == 0xFF && b[11] == 0xFF;
}

// The IPv4 address an IPv4-mapped one maps.
IpAddress unmapped(const IpAddress& mapped) noexcept {
    IpAddress address;
    std::copy(mapped.bytes.begin() + 12, mapped.bytes.end(), address.bytes.begin());
    return address;
}

// What inet_pton accepts, as it is (an IPv4-mapped address stays IPv6).
// inet_pton needs a NUL-terminated string: the text is copied to the stack,
// and text with a NUL of its own is refused (inet_pton would stop there).
std::optional<IpAddress> parse_literal(std::string_view text) noexcept {
    if (text.empty() || text.size() > kMaxAddressBytes ||
        text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    std::array<char, kMaxAddressBytes + 1> terminated{};
    std::copy(text.begin(), text.end(), terminated.begin());
    IpAddress address;
    if (::inet_pton(AF_INET, terminated.data(), address.bytes.data()) == 1) {
        return address;
    }
    if (::inet_pton(AF_INET6, terminated.data(), address.bytes.data()) == 1) {
        address.family = AddressFamily::ipv6;
        return address;
    }
    return std::nullopt;
}

void clear_host_bits(IpAddress& address, unsigned prefix_length) noexcept {
    for (std::size_t i = 0; i < bytes_of(address.family); ++i) {
        const unsigned first_bit = 8 * static_cast<unsigned>(i);
        if (prefix_length <= first_bit) {
            address.bytes.at(i) = 0;
        } else if (prefix_length < first_bit + 8) {
            address.bytes.at(i) &= leading_bits(prefix_length - first_bit);
        }
    }
}

enum class Fault : std::uint8_t {
    none,
    empty,
    too_long,
    not_an_address,
    prefix_missing,
    prefix_not_a_number,
    prefix_out_of_range,
};

// One parse, without allocating: the network, or what is wrong and enough to
// say it (the family and the prefix length, when those were read).
struct Parsed {
    Cidr cidr{};
    Fault fault = Fault::none;
    AddressFamily family = AddressFamily::ipv4;
    std::optional<unsigned> prefix_length{}; // only when at most 3 digits
};

// The prefix length text after '/': 1-3 decimal digits (more digits are
// out of range in any case, and not worth reading).
Fault read_prefix(std::string_view digits, Parsed& parsed) noexcept {
    if (digits.empty()) {
        return Fault::prefix_missing;
    }
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fault::prefix_not_a_number;
    }
    if (digits.size() > kMaxPrefixDigits) {
        return Fault::prefix_out_of_range;
    }
    unsigned value = 0;
    for (const char c : digits) {
        value = 10 * value + static_cast<unsigned>(c - '0');
    }
    parsed.prefix_length = value;
    return value > bits_of(parsed.family) ? Fault::prefix_out_of_range : Fault::none;
}

Parsed parse(std::string_view text) noexcept {
    Parsed parsed;
    if (text.empty()) {
        parsed.fault = Fault::empty;
        return parsed;
    }
    if (text.size() > kMaxCidrTextBytes) {
        parsed.fault = Fault::too_long;
        return parsed;
    }
    const auto slash = text.find('/');
    const auto address = parse_literal(text.substr(0, slash));
    if (!address) {
        parsed.fault = Fault::not_an_address;
        return parsed;
    }
    parsed.family = address->family;
    if (slash == std::string_view::npos) {
        parsed.prefix_length = bits_of(address->family);
    } else if (const Fault fault = read_prefix(text.substr(slash + 1), parsed);
               fault != Fault::none) {
        parsed.fault = fault;
        return parsed;
    }
    unsigned prefix = *parsed.prefix_length;
    IpAddress network = *address;
    if (is_ipv4_mapped(network) && prefix >= kMappedPrefix) {
        network = unmapped(network);
        prefix -= kMappedPrefix;
    }
    clear_host_bits(network, prefix);
    parsed.cidr = Cidr{network, static_cast<std::uint8_t>(prefix)};
    return parsed;
}

std::string ipv4_text(const IpAddress& address) {
    std::string out;
    for (std::size_t i = 0; i < 4; ++i) {
        out += (i == 0 ? "" : ".") + std::to_string(address.bytes.at(i));
    }
    return out;
}

// RFC 5952: lower-case hex without leading zeros; the longest run of two or
// more zero groups (the first of equal runs) as "::". (An IPv4-mapped address
// never gets here: parse() turns it into IPv4.)
std::string ipv6_text(const IpAddress& address) {
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < groups.size(); ++i) {
        groups.at(i) = (unsigned{address.bytes.at(2 * i)} << 8U) | address.bytes.at(2 * i + 1);
    }
    std::size_t run_start = groups.size();
    std::size_t run_length = 1; // a single zero group is not shortened
    for (std::size_t i = 0; i < groups.size();) {
        std::size_t end = i;
        while (end < groups.size() && groups.at(end) == 0) {
            ++end;
        }
        if (end - i > run_length) {
            run_start = i;
            run_length = end - i;
        }
        i = end == i ? i + 1 : end;
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (i == run_start) {
            out += "::";
            i += run_length - 1;
            continue;
        }
        if (!out.empty() && !out.ends_with(':')) {
            out += ':';
        }
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned digit = (groups.at(i) >> static_cast<unsigned>(shift)) & 0xFU;
            started = started || digit != 0 || shift == 0;
            if (started) {
                out += kHex[digit];
            }
        }
    }
    return out;
}

} // namespace

std::optional<Cidr> parse_cidr(std::string_view text) noexcept {
    const Parsed parsed = parse(text);
    if (parsed.fault != Fault::none) {
        return std::nullopt;
    }
    return parsed.cidr;
}

std::string cidr_problem(std::string_view text) {
    const Parsed parsed = parse(text);
    const std::string range = std::string(family_name(parsed.family)) + " (0-" +
                              std::to_string(bits_of(parsed.family)) + ")";
    switch (parsed.fault) {
    case Fault::none: return {};
    case Fault::empty: return "the network is empty";
    case Fault::too_long:
        return "the network is longer than any address with a prefix length (" +
               std::to_string(kMaxCidrTextBytes) + " characters)";
    case Fault::not_an_address:
        return "the network is not an IPv4 or IPv6 address (such as 192.0.2.0/24 or "
               "2001:db8::/32; host names are not allowed)";
    case Fault::prefix_missing: return "the network has no prefix length after '/'";
    case Fault::prefix_not_a_number: return "the prefix length after '/' is not a decimal number";
    case Fault::prefix_out_of_range:
        if (parsed.prefix_length) {
            return "prefix length " + std::to_string(*parsed.prefix_length) +
                   " is out of range for " + range;
        }
        return "the prefix length is out of range for " + range;
    }
    return "the network is not valid";
}

std::string canonical_text(const Cidr& cidr) {
    const IpAddress& network = cidr.network;
    return (network.family == AddressFamily::ipv4 ? ipv4_text(network) : ipv6_text(network)) + "/" +
           std::to_string(cidr.prefix_length);
}

std::optional<std::string> canonical_cidr(std::string_view text) {
    const auto cidr = parse_cidr(text);
    if (!cidr) {
        return std::nullopt;
    }
    return canonical_text(*cidr);
}

std::string source_networks_problem(std::span<const std::string> sources) {
    if (sources.size() > kMaxSources) {
        return "a token may name at most " + std::to_string(kMaxSources) + " networks";
    }
    for (const auto& source : sources) {
        if (std::string problem = cidr_problem(source); !problem.empty()) {
            return problem;
        }
    }
    return {};
}

std::optional<std::vector<std::string>> canonical_networks(std::span<const std::string> sources) {
    std::vector<std::string> canonical;
    canonical.reserve(sources.size());
    for (const auto& source : sources) {
        auto text = canonical_cidr(source);
        if (!text) {
            return std::nullopt;
        }
        if (std::find(canonical.begin(), canonical.end(), *text) == canonical.end()) {
            canonical.push_back(std::move(*text));
        }
    }
    return canonical;
}

std::optional<IpAddress> parse_rhost_address(std::string_view rhost) noexcept {
    auto address = parse_literal(rhost);
    if (address && is_ipv4_mapped(*address)) {
        return unmapped(*address);
    }
    return address;
}

bool contains(const Cidr& cidr, const IpAddress& address) noexcept {
    const IpAddress& network = cidr.network;
    if (network.family != address.family || cidr.prefix_length > bits_of(network.family)) {
        return false;
    }
    const std::size_t whole = cidr.prefix_length / 8U;
    const unsigned rest = cidr.prefix_length % 8U;
    if (!std::equal(network.bytes.begin(),
                    network.bytes.begin() + static_cast<std::ptrdiff_t>(whole),
                    address.bytes.begin())) {
        return false;
    }
    return rest == 0 || (address.bytes.at(whole) & leading_bits(rest)) == network.bytes.at(whole);
}

bool contains(const Cidr& cidr, std::string_view rhost) noexcept {
    const auto address = parse_rhost_address(rhost);
    return address && contains(cidr, *address);
}

namespace {

// The common start of both match_sources: nullopt when the rhost alone
// decides.
template <typename Sources>
std::optional<SourceMatch> decided_before_comparing(const Sources& sources,
                                                    std::string_view rhost) noexcept {
    if (sources.empty()) {
        return SourceMatch::unbound;
    }
    if (rhost.empty()) {
        return SourceMatch::no_rhost;
    }
    return std::nullopt;
}

} // namespace

SourceMatch match_sources(std::span<const std::string> sources, std::string_view rhost) noexcept {
    if (const auto decided = decided_before_comparing(sources, rhost)) {
        return *decided;
    }
    const auto address = parse_rhost_address(rhost);
    if (!address) {
        return SourceMatch::not_an_address;
    }
    const bool inside = std::any_of(sources.begin(), sources.end(), [&](const std::string& text) {
        const auto cidr = parse_cidr(text);
        return cidr && contains(*cidr, *address);
    });
    return inside ? SourceMatch::inside : SourceMatch::outside;
}

SourceMatch match_sources(std::span<const Cidr> sources, std::string_view rhost) noexcept {
    if (const auto decided = decided_before_comparing(sources, rhost)) {
        return *decided;
    }
    const auto address = parse_rhost_address(rhost);
    if (!address) {
        return SourceMatch::not_an_address;
    }
    const bool inside = std::any_of(sources.begin(), sources.end(),
                                    [&](const Cidr& cidr) { return contains(cidr, *address); });
    return inside ? SourceMatch::inside : SourceMatch::outside;
}

std::string_view source_match_reason(SourceMatch match) noexcept {
    switch (match) {
    case SourceMatch::unbound: return "the token is not bound to networks";
    case SourceMatch::inside: return "the remote host is inside the token's networks";
    case SourceMatch::outside: return "the remote host is outside the token's networks";
    case SourceMatch::no_rhost:
        return "no remote host was given (PAM_RHOST), and the token is bound to networks";
    case SourceMatch::not_an_address:
        return "the remote host is not a literal IP address, and the token is bound to networks";
    }
    return "the remote host does not match the token's networks";
}

} // namespace apitoken::store
