#pragma once

#include <string>
#include <string_view>

namespace apitoken::bench {

// The two costs no implementation of an authentication can avoid, measured
// with nothing of ours in the way.

// libsodium's bare crypto_pwhash_str_verify: 0 on a match, -1 otherwise.
int raw_verify(const std::string& hash, std::string_view token) noexcept;

// A bus round trip as pam_apitoken.so makes one: a fresh connection to the
// system bus ($DBUS_SYSTEM_BUS_ADDRESS), one call to a trivial service on
// the same bus (org.freedesktop.DBus.Peer.Ping on the EchoService, answered
// by sd-bus itself), and closing. 0 or a negative errno.
int raw_bus_ping() noexcept;

// A direct round trip as pam_apitoken.so makes one by default: a fresh
// connection to a Unix socket (`address`, "unix:path=..."), a peer-to-peer
// D-Bus connection without Hello, one org.freedesktop.DBus.Peer.Ping to the
// DirectPeer there (answered by sd-bus itself), and closing. 0 or a
// negative errno.
int raw_direct_ping(const std::string& address) noexcept;

// Not limits: pam_apitoken.so's own call (ipc::Client: connect,
// Authenticate, close) without libpam around it, over the bus alone
// (Transport::BusOnly) or over the direct socket ($APITOKEN_SOCKET). 0 on
// success, else 1; 2 when the direct call fell back to the bus (it would
// time the wrong path).
int bus_authenticate(const std::string& user, const std::string& token,
                     const std::string& rhost) noexcept;
int direct_authenticate(const std::string& user, const std::string& token,
                        const std::string& rhost) noexcept;

} // namespace apitoken::bench
