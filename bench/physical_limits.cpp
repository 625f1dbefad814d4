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

int raw_bus_ping() noexcept {
    sd_bus* bus = nullptr;
    int r = sd_bus_open_system(&bus);
    if (r < 0) {
        return r;
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    r = sd_bus_call_method(bus, kEchoBusName, "/", "org.freedesktop.DBus.Peer", "Ping", &error,
                           &reply, "");
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    sd_bus_close_unref(bus);
    return r < 0 ? r : 0;
}

int bus_authenticate(const std::string& user, const std::string& token,
                     const std::string& rhost) noexcept {
    // The module's default timeout= (see pam_apitoken(8)).
    ipc::Client client{std::chrono::seconds(5)};
    return client.authenticate(user, token, "bench-apitoken", rhost).ok() ? 0 : 1;
}

} // namespace apitoken::bench
