#pragma once

// The a{sv} methods of design.md "Token policy": ListTokensEx,
// CreateTokenEx, UpdateToken, RotateToken, RevokeTokens (sd-bus handlers,
// registered in bus_object.cpp's vtable).
#include <systemd/sd-bus.h>

namespace apitoken::daemon::bus {

int on_list_tokens_ex(sd_bus_message* m, void* userdata, sd_bus_error* error);
int on_create_token_ex(sd_bus_message* m, void* userdata, sd_bus_error* error);
int on_update_token(sd_bus_message* m, void* userdata, sd_bus_error* error);
int on_rotate_token(sd_bus_message* m, void* userdata, sd_bus_error* error);
int on_revoke_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error);

} // namespace apitoken::daemon::bus
