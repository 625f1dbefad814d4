#include "daemon/direct_listener.hpp"

#include "daemon/inbound_relay.hpp"
#include "daemon/peer_credentials.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace apitoken::daemon {
namespace {

std::system_error failure(int error, const std::string& what) {
    return {error, std::generic_category(), what};
}

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        throw std::invalid_argument("the direct socket path is empty or too long: " + path);
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// Whether something accepts on `path` (another apitokend): a stale socket
// file refuses (ECONNREFUSED) and may be replaced.
bool someone_listens(const sockaddr_un& addr) {
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

// Every connection takes four descriptors (the peer's socket, sd-bus's
// duplicate of it, the relay's socketpair): the soft limit (1024 by default)
// must leave room for all of them and the daemon's own. Under the unit's
// system call filter setrlimit fails: LimitNOFILE= there does it.
void allow_descriptors_for(std::size_t connections) {
    rlimit files{};
    const rlim_t wanted = static_cast<rlim_t>(connections) * 4 + 256;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < wanted) {
        files.rlim_cur = std::min(wanted, files.rlim_max);
        static_cast<void>(::setrlimit(RLIMIT_NOFILE, &files));
    }
}

// Whoever may write to the socket's directory may put another socket in
// its place: only the daemon's user or root, a real directory.
void check_socket_directory(const std::filesystem::path& directory) {
    struct stat info {};
    if (::lstat(directory.c_str(), &info) != 0) {
        throw failure(errno, "cannot use " + directory.string());
    }
    if (!S_ISDIR(info.st_mode) || (info.st_uid != ::geteuid() && info.st_uid != 0) ||
        (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw std::runtime_error(directory.string() +
                                 " must be a directory that only apitokend's user or root "
                                 "may write to");
    }
}

} // namespace

struct DirectListener::Connection {
    DirectListener* owner = nullptr;
    // Closed without a flush: a peer that does not read must not hold the
    // loop (sd_bus_flush would wait for it).
    std::unique_ptr<InboundRelay> relay;
    ipc::BusPtr bus;
    ipc::SlotPtr object;
    ipc::SlotPtr filter;
    ipc::EventSourcePtr timer;
    uid_t uid = 0;
    bool active = false;      // a message since the timer was last set
    bool idle_timing = false; // the timer is the idle timeout (handshake done)
    bool closing = false;
};

DirectListener::DirectListener(sd_event* event, UniqueFd listen_fd, BusObject& object,
                               const AuditLog& log, DirectLimits limits)
    : event_(event), listen_fd_(std::move(listen_fd)), object_(object), log_(log), limits_(limits) {
    int r = sd_id128_randomize(&server_id_);
    sd_event_source* raw = nullptr;
    if (r >= 0) {
        r = sd_event_add_io(event_, &raw, listen_fd_.get(), EPOLLIN, on_accept, this);
    }
    accept_source_.reset(raw);
    raw = nullptr;
    if (r >= 0) {
        r = sd_event_add_defer(event_, &raw, on_reap, this);
    }
    reap_source_.reset(raw);
    if (r < 0 || (r = sd_event_source_set_enabled(reap_source_.get(), SD_EVENT_OFF)) < 0) {
        throw failure(-r, "cannot listen on the direct socket");
    }
    allow_descriptors_for(limits_.max_connections);
}

DirectListener::~DirectListener() {
    for (auto& [bus, connection] : connections_) {
        object_.callers().remove_direct(bus);
    }
    connections_.clear();
}

UniqueFd DirectListener::listening_socket(const std::string& path) {
    if (sd_listen_fds(1) == 1) {
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0) {
            throw std::runtime_error("the socket systemd passed is not a listening Unix socket");
        }
        // Passed blocking (NonBlocking=no): accepting until EAGAIN would
        // then hang the loop on the first empty backlog.
        const int flags = ::fcntl(SD_LISTEN_FDS_START, F_GETFL);
        if (flags < 0 || ::fcntl(SD_LISTEN_FDS_START, F_SETFL, flags | O_NONBLOCK) != 0) {
            throw failure(errno, "cannot make the socket systemd passed non-blocking");
        }
        return UniqueFd(SD_LISTEN_FDS_START);
    }
    const sockaddr_un addr = address_of(path);
    const std::filesystem::path directory = std::filesystem::path(path).parent_path();
    if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
        throw failure(errno, "cannot create " + directory.string());
    }
    check_socket_directory(directory);
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0) {
        if (!S_ISSOCK(existing.st_mode)) {
            throw std::runtime_error(path + " exists and is not a socket; not replacing it");
        }
        if (someone_listens(addr)) {
            throw std::runtime_error("another process accepts on " + path +
                                     ": is apitokend already running?");
        }
        ::unlink(path.c_str()); // stale: nobody accepts on it
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        throw failure(errno, "cannot create the direct socket");
    }
    // 0666: anyone may connect; who they are decides what they may do.
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(path.c_str(), 0666) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
        const int error = errno;
        throw failure(error, "cannot listen on " + path);
    }
    return fd;
}

// Out of file descriptors: stop accepting for a moment instead of spinning
// on a listening socket that stays readable.
void DirectListener::pause_accepting() {
    constexpr std::chrono::milliseconds kPause{250};
    sd_event_source_set_enabled(accept_source_.get(), SD_EVENT_OFF);
    sd_event_source* raw = nullptr;
    if (sd_event_add_time_relative(
            event_, &raw, CLOCK_MONOTONIC, ipc::usec_of(kPause), 0,
            [](sd_event_source* /*s*/, std::uint64_t /*usec*/, void* userdata) {
                auto& self = *static_cast<DirectListener*>(userdata);
                sd_event_source_set_enabled(self.accept_source_.get(), SD_EVENT_ON);
                self.resume_source_.reset();
                return 0;
            },
            this) >= 0) {
        resume_source_.reset(raw);
    } else {
        sd_event_source_set_enabled(accept_source_.get(), SD_EVENT_ON);
    }
}

int DirectListener::on_accept(sd_event_source* /*source*/, int fd, std::uint32_t /*revents*/,
                              void* userdata) {
    auto& self = *static_cast<DirectListener*>(userdata);
    // A few at a time, so that one flood does not hold the loop.
    for (int i = 0; i < 16 && self.accept_one(fd); ++i) {
    }
    return 0;
}

// False when there is nothing more to accept now.
bool DirectListener::accept_one(int listen_fd) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            pause_accepting(); // else the waiting peer would wake the loop again and again
            return false;
        }
        return errno == ECONNABORTED || errno == EINTR; // the peer gave up: the next one
    }
    const std::optional<Caller> caller = peer_caller(fd);
    const auto held = caller ? per_uid_.find(caller->uid) : per_uid_.end();
    if (!caller || connections_.size() >= limits_.max_connections ||
        (held != per_uid_.end() && held->second >= limits_.max_connections_per_uid)) {
        ::close(fd); // beyond the limits: the client falls back to the bus
        return true;
    }
    try {
        start_connection(fd, *caller);
    } catch (const std::exception& error) {
        log_.warning(std::string("direct connection refused: ") + error.what());
    }
    return true;
}

void DirectListener::start_connection(int fd, const Caller& caller) {
    auto connection = std::make_unique<Connection>();
    connection->owner = this;
    connection->uid = caller.uid;
    Connection* self = connection.get();
    const uid_t uid = caller.uid;
    connection->relay = std::make_unique<InboundRelay>(
        event_, fd,
        InboundRelay::Limits{.max_message_bytes = limits_.max_message_bytes,
                             .max_unread_replies = limits_.max_unread_replies},
        scratch_, [self] { self->owner->close_later(*self); },
        [this, uid](std::int64_t delta) { return account_partial(uid, delta); });
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    connection->bus.reset(raw);
    const int input = connection->relay->take_bus_input();
    const int output = connection->relay->take_bus_output();
    if (r < 0 || (r = sd_bus_set_fd(raw, input, output)) < 0) {
        ::close(input); // sd-bus took neither
        ::close(output);
        throw failure(-r, "cannot serve a direct connection");
    }
    sd_bus_slot* slot = nullptr;
    sd_event_source* timer = nullptr;
    // The peer's identity is the kernel's (peer_caller); sd-bus would only
    // see the daemon's own on the socketpair, so its EXTERNAL check is
    // waived. No descriptors travel on this path.
    if ((r = sd_bus_set_server(raw, 1, server_id_)) < 0 || (r = sd_bus_set_anonymous(raw, 1)) < 0 ||
        (r = sd_bus_negotiate_fds(raw, 0)) < 0 || (r = sd_bus_start(raw)) < 0 ||
        (r = sd_bus_attach_event(raw, event_, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
        // Not flushed when the loop exits (sd-bus's default): a peer that
        // reads nothing would hold the daemon's shutdown in sd_bus_flush.
        (r = sd_bus_set_close_on_exit(raw, 0)) < 0 ||
        (r = sd_bus_add_filter(raw, &slot, on_message, self)) < 0) {
        throw failure(-r, "cannot serve a direct connection");
    }
    connection->filter.reset(slot);
    if ((r = sd_event_add_time_relative(event_, &timer, CLOCK_MONOTONIC,
                                        ipc::usec_of(limits_.auth_timeout), 0, on_timer, self)) <
        0) {
        throw failure(-r, "cannot time a direct connection");
    }
    connection->timer.reset(timer);
    connection->object = object_.serve(raw);
    connection->relay->attach(raw);
    object_.callers().add_direct(raw, caller);
    ++per_uid_[caller.uid];
    connections_.emplace(raw, std::move(connection));
}

int DirectListener::on_message(sd_bus_message* message, void* userdata, sd_bus_error* /*error*/) {
    auto& connection = *static_cast<Connection*>(userdata);
    connection.active = true;
    connection.relay->dispatched();
    if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected") > 0) {
        connection.owner->close_later(connection);
    }
    return 0; // on to the object
}

// The authentication timeout first (a handshake not finished by then),
// then the idle timeout (no message since the last time), again and again.
int DirectListener::on_timer(sd_event_source* source, std::uint64_t /*usec*/, void* userdata) {
    auto& connection = *static_cast<Connection*>(userdata);
    DirectListener& self = *connection.owner;
    const bool authenticated = sd_bus_is_ready(connection.bus.get()) > 0;
    if (!authenticated || (connection.idle_timing && !connection.active)) {
        self.close_later(connection);
        return 0;
    }
    connection.idle_timing = true;
    connection.active = false;
    sd_event_source_set_time_relative(source, ipc::usec_of(self.limits_.idle_timeout));
    sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    return 0;
}

void DirectListener::close_later(Connection& connection) {
    connection.closing = true;
    sd_event_source_set_enabled(reap_source_.get(), SD_EVENT_ONESHOT);
}

// A uid's messages under way, in all; false beyond its budget (the
// connection that asked is closed, its bytes given back at reap()).
bool DirectListener::account_partial(uid_t uid, std::int64_t delta) {
    if (delta == 0) {
        return true;
    }
    auto [it, added] = partial_bytes_.try_emplace(uid, 0);
    it->second += delta;
    const bool within = it->second <= limits_.max_partial_bytes_per_uid;
    if (it->second <= 0) {
        partial_bytes_.erase(it);
    }
    return within;
}

int DirectListener::on_reap(sd_event_source* /*source*/, void* userdata) {
    static_cast<DirectListener*>(userdata)->reap();
    return 0;
}

// Outside the connections' own callbacks: sd-bus must not free a bus from
// inside its dispatch.
void DirectListener::reap() {
    for (auto it = connections_.begin(); it != connections_.end();) {
        if (!it->second->closing) {
            ++it;
            continue;
        }
        object_.callers().remove_direct(it->first);
        account_partial(it->second->uid, -it->second->relay->accounted_bytes());
        if (auto count = per_uid_.find(it->second->uid);
            count != per_uid_.end() && --count->second == 0) {
            per_uid_.erase(count);
        }
        it = connections_.erase(it);
    }
}

} // namespace apitoken::daemon
