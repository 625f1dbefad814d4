#pragma once

#include "ipc/bus_client.hpp"

#include <systemd/sd-bus.h>

#include <string>

// How the client's failures become Outcomes, in one place (bus_client.cpp
// and client_connection.cpp only).
namespace apitoken::ipc::client_detail {

Outcome ok();
// For catch handlers: building a message could itself throw, so none.
Outcome out_of_memory() noexcept;
Outcome internal_error() noexcept;
Outcome failed(Outcome::Kind kind, std::string message);
std::string errno_text(int error);
// An sd-bus failure (`r`, with the error the peer sent, if any).
Outcome outcome_of(const sd_bus_error& error, int r);
// Neither the direct socket nor the bus could be reached.
Outcome no_bus(int connect_error);
// A reply that does not read as the method's signature says.
Outcome reply_error(int r);

} // namespace apitoken::ipc::client_detail
