// apitoken-test-silent-owner: owns io.apitoken1 on the bus and never answers,
// to prove that clients give up at their deadline, not later.
#include "ipc/bus_api.hpp"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdio>

int main() {
    sd_bus* bus = nullptr;
    if (sd_bus_open_system(&bus) < 0 || sd_bus_request_name(bus, apitoken::ipc::kBusName, 0) < 0) {
        static_cast<void>(std::fputs("cannot own the name\n", stderr));
        return 1;
    }
    std::puts("ready");
    static_cast<void>(std::fflush(stdout));
    for (;;) {
        ::pause(); // never reads the bus: calls to us go unanswered
    }
}
