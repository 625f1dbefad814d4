#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::store {

// The networks a token may be used from (its "sources", design.md "Token
// policy"): what the store accepts as a CIDR, the text it keeps, and whether
// a PAM_RHOST is inside. Like name_rules, each *_problem check returns "" when
// the value is fine, else a sentence that never contains the value.

// How many networks one token may name (`apitokenctl create --from`, the
// `sources` of CreateTokenEx and UpdateToken). The same bound as the store's
// shape check (name_rules.hpp: kMaxSourcesPerToken), which only bounds what
// it keeps; the daemon checks with source_networks_problem.
inline constexpr std::size_t kMaxSources = 64;

// The longest text that can be an address with a prefix length:
// "0000:0000:0000:0000:0000:0000:255.255.255.255/128". Longer text is refused
// before it is parsed.
inline constexpr std::size_t kMaxCidrTextBytes = 49;

enum class AddressFamily : std::uint8_t { ipv4, ipv6 };

// An IPv4 or IPv6 address. IPv4 uses bytes[0..3] (the rest stay zero).
// An IPv4-mapped IPv6 address (::ffff:10.1.2.3) is kept as the IPv4 address
// it maps: it is that IPv4 host talking to a dual-stack socket.
struct IpAddress {
    AddressFamily family = AddressFamily::ipv4;
    std::array<std::uint8_t, 16> bytes{};

    bool operator==(const IpAddress&) const = default;
};

// A network: the address with every bit after the prefix zero, and the prefix
// length (0-32 for IPv4, 0-128 for IPv6).
struct Cidr {
    IpAddress network{};
    std::uint8_t prefix_length = 0;

    bool operator==(const Cidr&) const = default;
};

// Parses a network as admins and users write it:
//   - "10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128";
//   - a bare address, meaning that one host: "192.0.2.7" is /32, "::1" /128;
//   - an IPv4-mapped IPv6 network of prefix 96 or longer is the IPv4 network
//     it maps: "::ffff:10.0.0.0/104" is 10.0.0.0/8, "::ffff:0:0/96" is
//     0.0.0.0/0, "::ffff:192.0.2.7" is 192.0.2.7/32.
// Addresses are what inet_pton(3) accepts (IPv4: four decimal parts without
// leading zeros; no host names, no brackets, no zone index "%eth0", no port);
// the prefix length is 1 to 3 decimal digits. Host bits after the prefix are
// not an error: they are cleared ("10.1.2.3/8" is 10.0.0.0/8), as the
// canonical text then shows. nullopt for anything else.
[[nodiscard]] std::optional<Cidr> parse_cidr(std::string_view text) noexcept;

// "" when parse_cidr accepts `text`, else why not, e.g. "prefix length 33 is
// out of range for IPv4 (0-32)", "prefix length 129 is out of range for IPv6
// (0-128)", "the network is not an IPv4 or IPv6 address (such as
// 192.0.2.0/24 or 2001:db8::/32; host names are not allowed)".
[[nodiscard]] std::string cidr_problem(std::string_view text);

// The text the store keeps and shows: the network address, '/', the prefix
// length, always. IPv4 dotted decimal; IPv6 as RFC 5952 writes it (lower-case
// hex, no leading zeros, the longest run of two or more zero groups as "::").
// parse_cidr reads it back to the same Cidr.
[[nodiscard]] std::string canonical_text(const Cidr& cidr);

// canonical_text(parse_cidr(text)), or nullopt when text is no network.
[[nodiscard]] std::optional<std::string> canonical_cidr(std::string_view text);

// A token's list of networks: at most kMaxSources, each one accepted by
// parse_cidr (the count is checked first, so a huge list costs little).
[[nodiscard]] std::string source_networks_problem(std::span<const std::string> sources);

// What the store keeps for a list that source_networks_problem accepts: each
// entry's canonical text, in the order given, duplicates (after
// canonicalization: "10.1.2.3/8" and "10.0.0.0/8") kept once. nullopt when
// an entry is no network.
[[nodiscard]] std::optional<std::vector<std::string>>
canonical_networks(std::span<const std::string> sources);

// PAM_RHOST as an address: exactly what inet_pton(3) accepts for AF_INET or
// AF_INET6 (an IPv4-mapped one becomes IPv4), nothing else: not a host name,
// not "[::1]", not "192.0.2.7:22", not "fe80::1%eth0" (the zone says which
// link, which no network names), no surrounding blanks. nullopt otherwise.
// No allocation.
[[nodiscard]] std::optional<IpAddress> parse_rhost_address(std::string_view rhost) noexcept;

// Whether `address` is inside `cidr`. Families must agree: an IPv6 network,
// even ::/0, never contains an IPv4 address (IPv4-mapped ones included); an
// IPv4 network contains IPv4 and IPv4-mapped addresses.
[[nodiscard]] bool contains(const Cidr& cidr, const IpAddress& address) noexcept;

// Whether `rhost` is a literal address (parse_rhost_address) inside `cidr`.
// An empty rhost, a host name or anything malformed is never inside.
[[nodiscard]] bool contains(const Cidr& cidr, std::string_view rhost) noexcept;

// How a token's networks judge one PAM_RHOST, and why, for the log.
enum class SourceMatch : std::uint8_t {
    unbound,        // the token names no network: any rhost, even none
    inside,         // the rhost is an address inside one of them
    outside,        // the rhost is an address inside none of them
    no_rhost,       // the token names networks, the caller named no rhost
    not_an_address, // a host name, port, brackets, zone, junk: never inside
};

// The check of every authentication: the rhost is parsed once, then each
// stored network (canonical text, as source_networks_problem accepted it) parsed and
// compared, O(n) in the number of networks with no allocation. A stored entry
// that does not parse matches nothing (fail closed).
[[nodiscard]] SourceMatch match_sources(std::span<const std::string> sources,
                                        std::string_view rhost) noexcept;

// The same against networks parsed beforehand.
[[nodiscard]] SourceMatch match_sources(std::span<const Cidr> sources,
                                        std::string_view rhost) noexcept;

// Whether the match lets the token authenticate: unbound or inside.
[[nodiscard]] constexpr bool source_allowed(SourceMatch match) noexcept {
    return match == SourceMatch::unbound || match == SourceMatch::inside;
}

// For the log: "the remote host is outside the token's networks", "no remote
// host was given, and the token is bound to networks", ...
[[nodiscard]] std::string_view source_match_reason(SourceMatch match) noexcept;

} // namespace apitoken::store
