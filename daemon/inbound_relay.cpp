#include "daemon/inbound_relay.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
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

InboundRelay::InboundRelay(sd_event* event, int peer_fd, std::size_t max_message_bytes,
                           std::span<char> scratch, std::function<void()> on_close)
    : peer_fd_(peer_fd), framing_(max_message_bytes), scratch_(scratch),
      on_close_(std::move(on_close)) {
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
    sd_event_source* raw = nullptr;
    int r = sd_event_add_io(event, &raw, peer_fd_, EPOLLIN, on_peer, this);
    peer_source_.reset(raw);
    raw = nullptr;
    if (r >= 0) {
        r = sd_event_add_io(event, &raw, relay_fd_, EPOLLOUT, on_relay, this);
    }
    relay_source_.reset(raw);
    if (r >= 0) {
        r = sd_event_source_set_enabled(relay_source_.get(), SD_EVENT_OFF);
    }
    if (r < 0) {
        peer_source_.reset();
        relay_source_.reset();
        close_fd(peer_fd_);
        close_fd(relay_fd_);
        close_fd(bus_input_);
        close_fd(bus_output_);
        throw std::system_error(-r, std::generic_category(), "cannot relay a direct connection");
    }
}

InboundRelay::~InboundRelay() {
    peer_source_.reset();
    relay_source_.reset();
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

int InboundRelay::on_peer(sd_event_source* /*source*/, int /*fd*/, std::uint32_t /*revents*/,
                          void* userdata) {
    static_cast<InboundRelay*>(userdata)->read_peer();
    return 0;
}

int InboundRelay::on_relay(sd_event_source* /*source*/, int /*fd*/, std::uint32_t /*revents*/,
                           void* userdata) {
    auto& self = *static_cast<InboundRelay*>(userdata);
    if (self.write_pending() && !self.closed_) { // all passed on: read the peer again
        sd_event_source_set_enabled(self.relay_source_.get(), SD_EVENT_OFF);
        sd_event_source_set_enabled(self.peer_source_.get(), SD_EVENT_ON);
    }
    return 0;
}

// One read per wake-up, so that one busy peer does not hold the loop. The
// bytes go on straight from the scratch buffer; only what the socketpair
// cannot take at once is kept.
void InboundRelay::read_peer() {
    const ssize_t n = ::recv(peer_fd_, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    const auto received = scratch_.first(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (n <= 0 || framing_.feed(received) != InboundFraming::Verdict::Ok) {
        close();
        return;
    }
    const std::optional<std::size_t> sent = send_some(received);
    if (!sent) {
        close();
        return;
    }
    if (*sent < received.size()) { // the socketpair is full: wait until sd-bus reads
        pending_.assign(received.data() + *sent, received.size() - *sent);
        sd_event_source_set_enabled(peer_source_.get(), SD_EVENT_OFF);
        sd_event_source_set_enabled(relay_source_.get(), SD_EVENT_ON);
    }
}

// How much of `bytes` the socketpair took before it was full; nothing on
// an error (sd-bus's end is gone).
std::optional<std::size_t> InboundRelay::send_some(std::span<const char> bytes) const {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(relay_fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n < 0) {
            return std::nullopt;
        }
        sent += static_cast<std::size_t>(n);
    }
    return sent;
}

// True when nothing is left to write.
bool InboundRelay::write_pending() {
    const std::optional<std::size_t> sent = send_some(pending_);
    if (!sent) {
        close();
        return true;
    }
    pending_.erase(0, *sent);
    if (!pending_.empty()) {
        return false;
    }
    std::string().swap(pending_); // an idle connection keeps no buffer
    return true;
}

void InboundRelay::close() {
    if (std::exchange(closed_, true)) {
        return;
    }
    sd_event_source_set_enabled(peer_source_.get(), SD_EVENT_OFF);
    sd_event_source_set_enabled(relay_source_.get(), SD_EVENT_OFF);
    on_close_();
}

} // namespace apitoken::daemon
