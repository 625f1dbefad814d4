#include "ipc/client_connection.hpp"

#include "ipc/bus_api.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace apitoken::ipc::client_detail {
namespace {

constexpr const char* kDefaultSystemBusAddress = "unix:path=/run/dbus/system_bus_socket";

} // namespace

std::uint64_t usec_until(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<std::uint64_t>(left.count()) : 0;
}

// What sd_bus_open_system() does, but against our deadline: it would leave
// the socket authentication and Hello to sd-bus's own timeouts (tens of
// seconds), and the first sd_bus_call() waits for them without any, so a
// wedged bus daemon would hold a login that long. `bus_client`: a bus
// (Hello) rather than a peer (the direct socket: the handshake only).
int connect_to(const std::string& address, bool bus_client,
               std::chrono::steady_clock::time_point deadline, std::uint64_t timeout_usec,
               BusPtr& out) {
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    BusPtr bus(raw);
    if (r < 0) {
        return r;
    }
    if ((r = sd_bus_set_address(bus.get(), address.c_str())) < 0 ||
        (r = sd_bus_set_bus_client(bus.get(), bus_client ? 1 : 0)) < 0 ||
        // Bounds Hello, and later the calls without an explicit timeout.
        (r = sd_bus_set_method_call_timeout(bus.get(), timeout_usec)) < 0 ||
        (r = sd_bus_start(bus.get())) < 0) {
        return r;
    }
    while ((r = sd_bus_is_ready(bus.get())) == 0) {
        if ((r = sd_bus_process(bus.get(), nullptr)) < 0) {
            return r;
        }
        if (r > 0) {
            continue;
        }
        const std::uint64_t left = usec_until(deadline);
        if (left == 0) {
            return -ETIMEDOUT;
        }
        if ((r = sd_bus_wait(bus.get(), left)) < 0) {
            return r;
        }
    }
    if (r < 0) {
        return r;
    }
    out = std::move(bus);
    return 0;
}

std::string system_bus_address() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): only read, as sd-bus itself does
    const char* address = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return address != nullptr ? address : kDefaultSystemBusAddress;
}

// The direct socket's path; APITOKEN_SOCKET names another, except in
// setuid programs (secure_getenv). "" when the path would need escaping in
// a D-Bus address: then only the bus is tried.
std::string direct_socket_path() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): only read
    const char* wanted = secure_getenv("APITOKEN_SOCKET");
    const std::string path = wanted != nullptr ? wanted : kDirectSocketPath;
    const bool plain =
        !path.empty() && path.front() == '/' && std::ranges::all_of(path, [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '_' ||
                   c == '-' || c == '.';
        });
    return plain ? path : std::string();
}

} // namespace apitoken::ipc::client_detail
