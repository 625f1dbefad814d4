#include "bench/direct_peer.hpp"

#include "ipc/sd_handles.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace apitoken::bench {
namespace {

std::system_error failure(int error, const std::string& what) {
    return {error, std::generic_category(), "the bench's direct peer: " + what};
}

void check(int r, const char* what) {
    if (r < 0) {
        throw failure(-r, what);
    }
}

// A non-blocking listening socket at `path`; an older one (a bench that
// was killed) is replaced.
int listen_on(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof addr.sun_path) {
        throw failure(ENAMETOOLONG, text);
    }
    std::memcpy(addr.sun_path, text.c_str(), text.size() + 1);
    ::unlink(text.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        throw failure(errno, "socket");
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
        const int error = errno;
        ::close(fd);
        throw failure(error, "cannot listen on " + text);
    }
    return fd;
}

// Owns a plain descriptor.
struct Fd {
    int fd = -1;
    explicit Fd(int value) : fd(value) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

} // namespace

// Everything the serving thread touches; the constructor's thread only
// builds it before the thread starts and wakes it (stop) at the end.
struct DirectPeer::Loop {
    Fd listener;
    Fd stop{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    ipc::EventPtr event;
    ipc::EventSourcePtr accept_source;
    ipc::EventSourcePtr stop_source;
    ipc::EventSourcePtr reap_source;
    sd_id128_t server_id{};
    // Closed without a flush, as apitokend closes its direct connections.
    std::map<sd_bus*, ipc::BusPtr> connections;
    std::vector<sd_bus*> disconnected;

    explicit Loop(int listen_fd);
    void accept_all();
    void serve(int fd);
    void reap();
};

DirectPeer::Loop::Loop(int listen_fd) : listener(listen_fd) {
    if (stop.fd < 0) {
        throw failure(errno, "eventfd");
    }
    sd_event* raw_event = nullptr;
    check(sd_event_new(&raw_event), "sd_event_new");
    event.reset(raw_event);
    check(sd_id128_randomize(&server_id), "sd_id128_randomize");
    sd_event_source* raw = nullptr;
    check(sd_event_add_io(
              event.get(), &raw, listener.fd, EPOLLIN,
              [](sd_event_source*, int, std::uint32_t, void* self) {
                  static_cast<Loop*>(self)->accept_all();
                  return 0;
              },
              this),
          "sd_event_add_io");
    accept_source.reset(raw);
    check(sd_event_add_io(
              event.get(), &raw, stop.fd, EPOLLIN,
              [](sd_event_source* source, int, std::uint32_t, void*) {
                  return sd_event_exit(sd_event_source_get_event(source), 0);
              },
              nullptr),
          "sd_event_add_io");
    stop_source.reset(raw);
    // Outside the connections' own callbacks: sd-bus must not free a bus
    // from inside its dispatch.
    check(sd_event_add_defer(
              event.get(), &raw,
              [](sd_event_source*, void* self) {
                  static_cast<Loop*>(self)->reap();
                  return 0;
              },
              this),
          "sd_event_add_defer");
    reap_source.reset(raw);
    check(sd_event_source_set_enabled(reap_source.get(), SD_EVENT_OFF), "defer off");
}

void DirectPeer::Loop::accept_all() {
    for (;;) {
        const int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            return; // EAGAIN: all taken; anything else: the client sees it
        }
        serve(fd);
    }
}

// An sd-bus server connection on the loop, as apitokend makes one, minus
// its limits and peer credentials; the filter only notices the hang-up.
void DirectPeer::Loop::serve(int fd) {
    sd_bus* raw = nullptr;
    if (sd_bus_new(&raw) < 0) {
        ::close(fd);
        return;
    }
    ipc::BusPtr bus(raw);
    const auto on_message = [](sd_bus_message* message, void* self, sd_bus_error*) {
        if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected") > 0) {
            auto& loop = *static_cast<Loop*>(self);
            loop.disconnected.push_back(sd_bus_message_get_bus(message));
            sd_event_source_set_enabled(loop.reap_source.get(), SD_EVENT_ONESHOT);
        }
        return 0;
    };
    // A failed set-up leaves the descriptor to the bus (sd_bus_set_fd took
    // it) or closes it here; the client sees its connection end.
    if (sd_bus_set_fd(bus.get(), fd, fd) < 0) {
        ::close(fd);
        return;
    }
    if (sd_bus_set_server(bus.get(), 1, server_id) < 0 || sd_bus_set_anonymous(bus.get(), 1) < 0 ||
        sd_bus_start(bus.get()) < 0 ||
        sd_bus_attach_event(bus.get(), event.get(), SD_EVENT_PRIORITY_NORMAL) < 0 ||
        sd_bus_add_filter(bus.get(), nullptr, on_message, this) < 0) {
        return;
    }
    sd_bus* key = bus.get();
    connections.emplace(key, std::move(bus));
}

void DirectPeer::Loop::reap() {
    for (sd_bus* bus : disconnected) {
        connections.erase(bus);
    }
    disconnected.clear();
}

DirectPeer::DirectPeer(std::filesystem::path socket)
    : socket_(std::move(socket)), loop_(std::make_unique<Loop>(listen_on(socket_))) {
    thread_ = std::thread([loop = loop_.get()] { sd_event_loop(loop->event.get()); });
}

DirectPeer::~DirectPeer() {
    const std::uint64_t one = 1;
    if (::write(loop_->stop.fd, &one, sizeof one) != sizeof one) {
        std::terminate(); // the thread would never end: better loud than hung
    }
    thread_.join();
    // Connections before the event loop they are attached to.
    loop_->connections.clear();
    ::unlink(socket_.c_str());
}

} // namespace apitoken::bench
