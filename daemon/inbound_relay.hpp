#pragma once

#include "daemon/inbound_framing.hpp"
#include "ipc/sd_handles.hpp"

#include <systemd/sd-event.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace apitoken::daemon {

// Stands between a direct connection's peer and its sd-bus server: sd-bus
// reads from one end of a socketpair, the relay writes there what the peer
// sent once InboundFraming let it pass, and closes the connection (through
// `on_close`) at the first message too large or not D-Bus, at end of file
// or on an error. sd-bus writes its replies to the peer's socket itself.
// Descriptors passed by the peer are dropped by the kernel (no control
// buffer is read), so a peer cannot make the daemon hold them.
class InboundRelay {
public:
    // Takes `peer_fd`. `scratch` is a read buffer shared by every relay of
    // the loop (one thread; nothing is kept in it between callbacks).
    InboundRelay(sd_event* event, int peer_fd, std::size_t max_message_bytes,
                 std::span<char> scratch, std::function<void()> on_close);
    InboundRelay(const InboundRelay&) = delete;
    InboundRelay& operator=(const InboundRelay&) = delete;
    InboundRelay(InboundRelay&&) = delete;
    InboundRelay& operator=(InboundRelay&&) = delete;
    ~InboundRelay();

    // For sd_bus_set_fd(input, output): sd-bus's end of the socketpair and a
    // duplicate of the peer's socket. The caller owns them (sd-bus once it
    // took them).
    [[nodiscard]] int take_bus_input() noexcept;
    [[nodiscard]] int take_bus_output() noexcept;

private:
    static int on_peer(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
    static int on_relay(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
    void read_peer();
    [[nodiscard]] std::optional<std::size_t> send_some(std::span<const char> bytes) const;
    bool write_pending();
    void close();

    int peer_fd_ = -1;
    int relay_fd_ = -1;  // our end of the socketpair: written
    int bus_input_ = -1; // sd-bus's end until taken
    int bus_output_ = -1;
    InboundFraming framing_;
    std::span<char> scratch_;
    std::function<void()> on_close_;
    std::string pending_; // passed the framing, not yet taken by the socketpair
    ipc::EventSourcePtr peer_source_;
    ipc::EventSourcePtr relay_source_;
    bool closed_ = false;
};

} // namespace apitoken::daemon
