#pragma once

#include "contract/unique_fd.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/bus_object.hpp"
#include "ipc/sd_handles.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace apitoken::daemon {

// What dbus-daemon's configuration bounded on the bus path, carried by the
// daemon itself on the direct one.
struct DirectLimits {
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_uid = 64;
    // From accept() to a finished SASL handshake.
    std::chrono::seconds auth_timeout{5};
    // Without a message either way.
    std::chrono::seconds idle_timeout{60};
    // Per message from the peer (sd-bus's own bound is 128 MiB). The largest
    // call apitoken takes is ImportTokens with kMaxImportTokens entries.
    std::size_t max_message_bytes = std::size_t{4} << 20U;
    // What one uid's messages under way may hold in all (sd-bus keeps a
    // message's bytes until it is whole): two of the largest.
    std::int64_t max_partial_bytes_per_uid = std::int64_t{8} << 20U;
    // Replies sd-bus holds because the peer does not read them: no further
    // call is read from that peer until it does.
    std::uint64_t max_unread_replies = 8;
};

// The direct connection (design.md): io.apitoken1.Manager as a D-Bus
// peer-to-peer server on a Unix socket, no broker, no Hello. Each accepted
// connection is an sd-bus server connection on the daemon's event loop,
// serving the same BusObject; its caller is what the kernel says about the
// socket's peer (SO_PEERCRED, SO_PEERGROUPS), fixed for its lifetime, and
// authorization is the same as on the bus. Beyond the limits a connection
// is closed at once, before sd-bus reads a byte of it; what the peer sends
// reaches sd-bus through an InboundRelay, which bounds each message, what a
// uid's messages under way hold, and the replies a peer leaves unread.
class DirectListener {
public:
    DirectListener(sd_event* event, UniqueFd listen_fd, BusObject& object, const AuditLog& log,
                   DirectLimits limits = {});
    DirectListener(const DirectListener&) = delete;
    DirectListener& operator=(const DirectListener&) = delete;
    DirectListener(DirectListener&&) = delete;
    DirectListener& operator=(DirectListener&&) = delete;
    ~DirectListener();

    // The listening socket: systemd's (socket activation, one fd) when it
    // passed one, otherwise `path` made here: its directory 0755 (made if
    // missing), the socket 0666; a stale socket (nobody accepting) is
    // replaced, a live one (another apitokend) refused. Throws with the
    // reason.
    [[nodiscard]] static UniqueFd listening_socket(const std::string& path);

    [[nodiscard]] std::size_t connections() const noexcept { return connections_.size(); }

private:
    struct Connection;
    static int on_accept(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
    static int on_message(sd_bus_message* message, void* userdata, sd_bus_error* error);
    static int on_timer(sd_event_source* source, std::uint64_t usec, void* userdata);
    static int on_reap(sd_event_source* source, void* userdata);
    bool accept_one(int listen_fd);
    void pause_accepting();
    void start_connection(int fd, const Caller& caller);
    bool account_partial(uid_t uid, std::int64_t delta);
    void close_later(Connection& connection);
    void reap();

    sd_event* event_;
    UniqueFd listen_fd_;
    BusObject& object_;
    const AuditLog& log_;
    DirectLimits limits_;
    ipc::EventSourcePtr accept_source_;
    ipc::EventSourcePtr reap_source_;
    ipc::EventSourcePtr resume_source_; // while accepting is paused
    sd_id128_t server_id_{};
    std::map<sd_bus*, std::unique_ptr<Connection>> connections_;
    std::map<uid_t, std::size_t> per_uid_;
    std::map<uid_t, std::int64_t> partial_bytes_; // messages under way, per uid
    std::vector<char> scratch_ = std::vector<char>(std::size_t{64} << 10U); // the relays' reads
};

} // namespace apitoken::daemon
