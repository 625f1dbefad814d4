#pragma once

// ImportTokens (design.md "Token policy"): the sd-bus handler, registered in
// bus_object.cpp's vtable; the logic is TokenImporter's.
#include <systemd/sd-bus.h>

namespace apitoken::daemon::bus {

int on_import_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error);

} // namespace apitoken::daemon::bus
