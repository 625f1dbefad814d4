#include "ipc/client_outcome.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <system_error>
#include <utility>

namespace apitoken::ipc::client_detail {
namespace {

bool means_unavailable_errno(int error) {
    constexpr std::array kErrnos{ECONNREFUSED, ENOENT,    ECONNRESET,   ENOTCONN, EPIPE,
                                 ETIMEDOUT,    ESHUTDOWN, EHOSTUNREACH, ENXIO,    ECONNABORTED};
    return std::ranges::any_of(kErrnos, [error](int e) { return e == error; });
}

bool means_unavailable_name(std::string_view name) {
    constexpr std::array<std::string_view, 8> kNames{
        SD_BUS_ERROR_SERVICE_UNKNOWN,
        SD_BUS_ERROR_NAME_HAS_NO_OWNER,
        SD_BUS_ERROR_NO_REPLY,
        SD_BUS_ERROR_TIMEOUT,
        "org.freedesktop.DBus.Error.TimedOut",
        SD_BUS_ERROR_DISCONNECTED,
        SD_BUS_ERROR_NO_SERVER,
        SD_BUS_ERROR_UNKNOWN_OBJECT,
    };
    for (const auto known : kNames) {
        if (name == known) {
            return true;
        }
    }
    // Activation failures: org.freedesktop.DBus.Error.Spawn.*
    return name.starts_with("org.freedesktop.DBus.Error.Spawn");
}

} // namespace

Outcome ok() {
    return {};
}

// For catch handlers: building a message could itself throw, so none.
Outcome out_of_memory() noexcept {
    Outcome outcome;
    outcome.kind = Outcome::Kind::OutOfMemory;
    return outcome;
}

Outcome internal_error() noexcept {
    Outcome outcome;
    outcome.kind = Outcome::Kind::Failed;
    return outcome;
}

Outcome failed(Outcome::Kind kind, std::string message) {
    return {kind, Error::Failed, std::move(message)};
}

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

// The one place where sd-bus failures become Outcomes.
Outcome outcome_of(const sd_bus_error& error, int r) {
    const std::string_view name = error.name != nullptr ? error.name : "";
    const std::string message = error.message != nullptr ? error.message : errno_text(-r);
    if (const auto ours = error_from_name(name)) {
        return {Outcome::Kind::Refused, *ours, message};
    }
    const int errno_value = sd_bus_error_is_set(&error) ? sd_bus_error_get_errno(&error) : -r;
    if (name == SD_BUS_ERROR_NO_MEMORY || errno_value == ENOMEM) {
        return failed(Outcome::Kind::OutOfMemory, "out of memory");
    }
    if (name == SD_BUS_ERROR_ACCESS_DENIED) {
        return {Outcome::Kind::Refused, Error::AccessDenied,
                "the D-Bus policy refused the call: " + message};
    }
    if (name == SD_BUS_ERROR_UNKNOWN_METHOD) {
        Outcome outcome = failed(Outcome::Kind::Failed, message);
        outcome.unknown_method = true;
        return outcome;
    }
    if (means_unavailable_name(name) || means_unavailable_errno(errno_value)) {
        return failed(Outcome::Kind::Unavailable, message);
    }
    return failed(Outcome::Kind::Failed, message);
}

Outcome no_bus(int connect_error) {
    Outcome outcome = failed(Outcome::Kind::Unavailable,
                             "cannot connect to the system bus: " + errno_text(connect_error));
    outcome.no_bus = true;
    return outcome;
}

Outcome reply_error(int r) {
    return failed(r == -ENOMEM ? Outcome::Kind::OutOfMemory : Outcome::Kind::Failed,
                  "unexpected reply from apitokend: " + errno_text(-r));
}

} // namespace apitoken::ipc::client_detail
