#include "daemon/inbound_relay.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace apitoken::daemon {
namespace {

void close_fd(int& fd) noexcept {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

} // namespace

InboundRelay::InboundRelay(sd_event* event, int peer_fd, Limits limits, std::span<char> scratch,
                           std::function<void()> on_close, Account account)
    : peer_fd_(peer_fd), limits_(limits), framing_(limits.max_message_bytes), scratch_(scratch),
      on_close_(std::move(on_close)), account_(std::move(account)) {
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0 ||
        (bus_output_ = ::fcntl(peer_fd_, F_DUPFD_CLOEXEC, 3)) < 0) {
        const int error = errno;
        close_fd(pair[0]);
        close_fd(pair[1]);
        close_fd(peer_fd_);
        throw std::system_error(error, std::generic_category(), "cannot relay a direct connection");
    }
    relay_fd_ = pair[0];
    bus_input_ = pair[1];
    sd_event_source* peer = nullptr;
    sd_event_source* writable = nullptr;
    sd_event_source* post = nullptr;
    int r = sd_event_add_io(event, &peer, peer_fd_, EPOLLIN, on_peer, this);
    peer_source_.reset(peer);
    if (r >= 0) {
        r = sd_event_add_io(event, &writable, relay_fd_, EPOLLOUT, on_writable, this);
    }
    writable_source_.reset(writable);
    if (r >= 0) {
        r = sd_event_add_post(event, &post, on_post, this);
    }
    post_source_.reset(post);
    if (r >= 0) {
        wait_for(Wait::Nothing); // until attach()
    }
    if (r < 0) {
        release();
        throw std::system_error(-r, std::generic_category(), "cannot relay a direct connection");
    }
}

InboundRelay::~InboundRelay() {
    release();
}

// The sources before the descriptors they watch.
void InboundRelay::release() noexcept {
    peer_source_.reset();
    writable_source_.reset();
    post_source_.reset();
    close_fd(peer_fd_);
    close_fd(relay_fd_);
    close_fd(bus_input_);
    close_fd(bus_output_);
}

int InboundRelay::take_bus_input() noexcept {
    return std::exchange(bus_input_, -1);
}
int InboundRelay::take_bus_output() noexcept {
    return std::exchange(bus_output_, -1);
}

void InboundRelay::attach(sd_bus* bus) {
    bus_ = bus;
    wait_for(Wait::Peer);
}

void InboundRelay::dispatched() {
    in_flight_ = false;
} // on_post carries on

// Also while the relay is held back (no EPOLLIN then): a peer that hung
// up is closed at once. Its socket stays in sd-bus's hands too, and sd-bus,
// with nothing to write, would be woken by the hang-up on every iteration.
int InboundRelay::on_peer(sd_event_source* /*source*/, int /*fd*/, std::uint32_t revents,
                          void* userdata) {
    auto& self = *static_cast<InboundRelay*>(userdata);
    if (self.reading_) {
        self.read_peer();
    } else if ((revents & (EPOLLHUP | EPOLLERR)) != 0) {
        self.close();
    }
    return 0;
}

int InboundRelay::on_writable(sd_event_source* /*source*/, int /*fd*/, std::uint32_t /*revents*/,
                              void* userdata) {
    static_cast<InboundRelay*>(userdata)->advance();
    return 0;
}

int InboundRelay::on_post(sd_event_source* /*source*/, void* userdata) {
    static_cast<InboundRelay*>(userdata)->advance();
    return 0;
}

// One read per wake-up, so that one busy peer does not hold the loop; only
// when everything read before has gone on.
void InboundRelay::read_peer() {
    const ssize_t n = ::recv(peer_fd_, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        close();
        return;
    }
    pending_.assign(scratch_.data(), static_cast<std::size_t>(n));
    sent_ = 0;
    approved_ = 0;
    advance();
}

// Passes on what it may, then waits for whatever lets it go on: the
// socketpair's room, sd-bus (its handshake, a dispatch, the peer reading
// replies), or the peer's next bytes.
void InboundRelay::advance() {
    while (!closed_) {
        if (!send_approved()) {
            wait_for(Wait::Writable);
            return;
        }
        if (approved_ == pending_.size()) {
            std::string().swap(pending_); // an idle connection keeps no buffer
            sent_ = 0;
            approved_ = 0;
            wait_for(Wait::Peer);
            return;
        }
        if (!may_pass_more()) {
            wait_for(Wait::Post);
            return;
        }
        const InboundFraming::Step step =
            framing_.step(std::span<const char>(pending_).subspan(approved_));
        // Told before the verdict counts: what is accounted is given back
        // at reap, whatever ends the connection.
        const auto held = static_cast<std::int64_t>(framing_.partial_message_bytes());
        const std::int64_t delta = held - std::exchange(accounted_, held);
        const bool within = delta == 0 || account_(delta);
        if (framing_.verdict() != InboundFraming::Verdict::Ok || !within) {
            close();
            return;
        }
        approved_ += step.taken;
        awaiting_ready_ = step.boundary == InboundFraming::Boundary::HandshakeEnd;
        in_flight_ = step.boundary == InboundFraming::Boundary::MessageEnd;
    }
}

bool InboundRelay::may_pass_more() {
    if (in_flight_ && bus_took_everything()) {
        in_flight_ = false; // read and dropped: sd-bus drops some invalid messages unseen
    }
    if (bus_ == nullptr || in_flight_) {
        return false;
    }
    if (awaiting_ready_) {
        if (sd_bus_is_ready(bus_) <= 0) {
            return false;
        }
        awaiting_ready_ = false;
    }
    std::uint64_t unread = 0;
    return !framing_.in_messages() || sd_bus_get_n_queued_write(bus_, &unread) < 0 ||
           unread < limits_.max_unread_replies;
}

// Nothing left in the socketpair and nothing read but not dispatched: the
// message that went on is sd-bus's past, whether its filter saw it or not.
bool InboundRelay::bus_took_everything() const {
    int unread = 0;
    std::uint64_t queued = 0;
    return bus_ != nullptr && ::ioctl(relay_fd_, SIOCOUTQ, &unread) == 0 && unread == 0 &&
           sd_bus_get_n_queued_read(bus_, &queued) >= 0 && queued == 0;
}

bool InboundRelay::send_approved() {
    while (sent_ < approved_) {
        const ssize_t n =
            ::send(relay_fd_, pending_.data() + sent_, approved_ - sent_, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return false;
        }
        if (n < 0) { // sd-bus's end is gone
            close();
            return true;
        }
        sent_ += static_cast<std::size_t>(n);
    }
    return true;
}

// What wakes the relay next. The peer's socket is watched throughout (for
// its bytes only when waiting for them, else for a hang-up).
void InboundRelay::wait_for(Wait what) {
    reading_ = what == Wait::Peer;
    sd_event_source_set_io_events(peer_source_.get(),
                                  reading_ ? static_cast<std::uint32_t>(EPOLLIN) : 0U);
    sd_event_source_set_enabled(peer_source_.get(),
                                what == Wait::Nothing ? SD_EVENT_OFF : SD_EVENT_ON);
    sd_event_source_set_enabled(writable_source_.get(),
                                what == Wait::Writable ? SD_EVENT_ON : SD_EVENT_OFF);
    sd_event_source_set_enabled(post_source_.get(),
                                what == Wait::Post ? SD_EVENT_ON : SD_EVENT_OFF);
}

void InboundRelay::close() {
    if (std::exchange(closed_, true)) {
        return;
    }
    wait_for(Wait::Nothing);
    on_close_();
}

} // namespace apitoken::daemon
