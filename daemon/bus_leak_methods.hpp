#pragma once

// The methods of leak scanning (design.md "Token policy"): LookupTokens and
// RevokeLeakedTokens (sd-bus handlers, registered in bus_object.cpp's
// vtable); the logic is LeakedTokens'.
#include <systemd/sd-bus.h>

namespace apitoken::daemon::bus {

int on_lookup_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error);
int on_revoke_leaked_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error);

} // namespace apitoken::daemon::bus
