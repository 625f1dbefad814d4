#pragma once

#include "daemon/caller.hpp"

struct sd_bus_message;

namespace apitoken::daemon {

// Asks the bus daemon (org.freedesktop.DBus.GetConnectionCredentials) who
// sent `message`. We ask the bus rather than /proc, because the bus recorded
// uid and groups from the socket when the caller connected: a caller cannot
// change them afterwards, and there is no pid-reuse race. Returns a negative
// errno on failure (then the call must be refused).
int query_caller(sd_bus_message* message, Caller& out);

} // namespace apitoken::daemon
