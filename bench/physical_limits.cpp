#include "bench/physical_limits.hpp"

#include "bench/echo_service.hpp"
#include "ipc/bus_client.hpp"

#include <sodium.h>
#include <systemd/sd-bus.h>

#include <chrono>

namespace apitoken::bench {

int raw_verify(const std::string& hash, std::string_view token) noexcept {
    return crypto_pwhash_str_verify(hash.c_str(), token.data(), token.size()) == 0 ? 0 : -1;
}

namespace {

// Peer.Ping (answered by sd-bus itself) on a started connection, then
// closes it, as the module does with its one call.
int ping_then_close(sd_bus* bus, const char* destination) noexcept {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call_method(bus, destination, "/", "org.freedesktop.DBus.Peer", "Ping",
                                     &error, &reply, "");
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    sd_bus_close_unref(bus);
    return r < 0 ? r : 0;
}

} // namespace

int raw_bus_ping() noexcept {
    sd_bus* bus = nullptr;
    const int r = sd_bus_open_system(&bus);
    return r < 0 ? r : ping_then_close(bus, kEchoBusName);
}

int raw_direct_ping(const std::string& address) noexcept {
    sd_bus* bus = nullptr;
    int r = sd_bus_new(&bus);
    if (r < 0) {
        return r;
    }
    // A peer, not a bus: no Hello, and calls carry no destination.
    if ((r = sd_bus_set_address(bus, address.c_str())) < 0 ||
        (r = sd_bus_set_bus_client(bus, 0)) < 0 || (r = sd_bus_start(bus)) < 0) {
        sd_bus_close_unref(bus);
        return r;
    }
    return ping_then_close(bus, nullptr);
}

namespace {

// The module's default timeout= (see pam_apitoken(8)).
constexpr std::chrono::seconds kModuleTimeout{5};
constexpr int kFellBackToBus = 2;

} // namespace

int bus_authenticate(const std::string& user, const std::string& token,
                     const std::string& rhost) noexcept {
    ipc::Client client{kModuleTimeout, ipc::Client::Transport::BusOnly};
    return client.authenticate(user, token, "bench-apitoken", rhost).ok() ? 0 : 1;
}

int direct_authenticate(const std::string& user, const std::string& token,
                        const std::string& rhost) noexcept {
    ipc::Client client{kModuleTimeout, ipc::Client::Transport::DirectFirst};
    if (!client.direct()) {
        return kFellBackToBus;
    }
    return client.authenticate(user, token, "bench-direct", rhost).ok() ? 0 : 1;
}

} // namespace apitoken::bench
