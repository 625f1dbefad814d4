#pragma once

#include "daemon/inbound_framing.hpp"
#include "ipc/sd_handles.hpp"

#include <systemd/sd-bus.h>
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
// sent, as InboundFraming lets it, and sd-bus writes its replies to the
// peer's socket itself. The relay passes on
//  - the handshake up to its BEGIN line, then nothing more until sd-bus
//    says the handshake is done (a BEGIN sd-bus refused would otherwise
//    leave the framing counting message lengths that sd-bus does not);
//  - then one message at a time: the next only once sd-bus dispatched the
//    one before (or read and dropped it) and has fewer than
//    `max_unread_replies` replies the peer has not read (a peer that never reads cannot make sd-bus
//    queue replies without bound, as dbus-daemon's max_outgoing_bytes prevented).
// Held back, the peer is not read (the kernel's socket buffers push back),
// only watched for a hang-up.
// It closes the connection (through `on_close`) at a message too large or
// not D-Bus, when `account` refuses the bytes of a message under way, at end
// of file or on an error. Descriptors passed by the peer are dropped by the
// kernel (no control buffer is read).
class InboundRelay {
public:
    struct Limits {
        std::size_t max_message_bytes = 0;
        std::uint64_t max_unread_replies = 0;
    };
    // Told how the bytes of the message under way changed (+/-); false when
    // they are more than its owner may hold.
    using Account = std::function<bool(std::int64_t delta)>;

    // Takes `peer_fd`. `scratch` is a read buffer shared by every relay of
    // the loop (one thread; nothing is kept in it between callbacks).
    InboundRelay(sd_event* event, int peer_fd, Limits limits, std::span<char> scratch,
                 std::function<void()> on_close, Account account);
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
    // The server the bytes are for, once it is started; reading begins.
    void attach(sd_bus* bus);
    // sd-bus dispatched a message from the peer (its filter saw it).
    void dispatched();
    // Bytes of the message under way that its owner was told of.
    [[nodiscard]] std::int64_t accounted_bytes() const noexcept { return accounted_; }

private:
    static int on_peer(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
    static int on_writable(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
    static int on_post(sd_event_source* source, void* userdata);
    void read_peer();
    void advance();
    [[nodiscard]] bool may_pass_more();
    [[nodiscard]] bool send_approved(); // false: the socketpair is full
    [[nodiscard]] bool bus_took_everything() const;
    enum class Wait { Nothing, Peer, Writable, Post };
    void wait_for(Wait what);
    void close();
    void release() noexcept;

    int peer_fd_ = -1;
    int relay_fd_ = -1;  // our end of the socketpair: written
    int bus_input_ = -1; // sd-bus's end until taken
    int bus_output_ = -1;
    sd_bus* bus_ = nullptr;
    Limits limits_;
    InboundFraming framing_;
    std::span<char> scratch_;
    std::function<void()> on_close_;
    Account account_;
    std::int64_t accounted_ = 0;
    // Read from the peer: [0, sent_) written, [sent_, approved_) passed the
    // framing, the rest waits.
    std::string pending_;
    std::size_t sent_ = 0;
    std::size_t approved_ = 0;
    bool awaiting_ready_ = false; // the BEGIN line went on; sd-bus not ready yet
    bool in_flight_ = false;      // a whole message went on, not dispatched yet
    ipc::EventSourcePtr peer_source_;
    ipc::EventSourcePtr writable_source_;
    ipc::EventSourcePtr post_source_; // while held back: after each dispatch
    bool reading_ = false;            // the peer's bytes are wanted (else only its hang-up)
    bool closed_ = false;
};

} // namespace apitoken::daemon
