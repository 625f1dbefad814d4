#pragma once

#include "ipc/sd_handles.hpp"

#include <chrono>
#include <cstdint>
#include <string>

// How the client reaches apitokend: the direct socket's path, the system
// bus's address, and a connection made within the caller's deadline.
namespace apitoken::ipc::client_detail {

// Microseconds left until `deadline`; 0 once it passed.
std::uint64_t usec_until(std::chrono::steady_clock::time_point deadline);
// What sd_bus_open_system() does, but against our deadline. `bus_client`: a
// bus (Hello) rather than a peer (the direct socket: the handshake only).
// 0, or a negative errno.
int connect_to(const std::string& address, bool bus_client,
               std::chrono::steady_clock::time_point deadline, std::uint64_t timeout_usec,
               BusPtr& out);
// $DBUS_SYSTEM_BUS_ADDRESS (never in setuid programs) or the standard one.
std::string system_bus_address();
// The direct socket's path; APITOKEN_SOCKET names another, except in setuid
// programs (secure_getenv). "" when the path would need escaping in a D-Bus
// address: then only the bus is tried.
std::string direct_socket_path();

} // namespace apitoken::ipc::client_detail
