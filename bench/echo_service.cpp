#include "bench/echo_service.hpp"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace apitoken::bench {
namespace {

struct BusClose {
    void operator()(sd_bus* bus) const noexcept { sd_bus_flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusClose>;

// 1: serving; a negative errno: it could not start.
constexpr int kServing = 1;

int connect_and_own(const std::string& bus_address, Bus& out) {
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    Bus bus(raw);
    if (r < 0 || (r = sd_bus_set_address(bus.get(), bus_address.c_str())) < 0 ||
        (r = sd_bus_set_bus_client(bus.get(), 1)) < 0 || (r = sd_bus_start(bus.get())) < 0 ||
        (r = sd_bus_request_name(bus.get(), kEchoBusName, 0)) < 0) {
        return r < 0 ? r : -EIO;
    }
    out = std::move(bus);
    return 0;
}

} // namespace

EchoService::EchoService(const std::string& bus_address) {
    std::atomic<int> started{0};
    thread_ = std::thread([this, bus_address, &started] { serve(bus_address, started); });
    while (started.load() == 0) {
        started.wait(0);
    }
    if (started.load() != kServing) {
        const int error = -started.load();
        thread_.join();
        throw std::runtime_error("the bench's echo service cannot own " +
                                 std::string(kEchoBusName) + ": " +
                                 std::generic_category().message(error));
    }
}

EchoService::~EchoService() {
    stop_ = true;
    thread_.join();
}

void EchoService::serve(const std::string& bus_address, std::atomic<int>& started) {
    Bus bus;
    const int r = connect_and_own(bus_address, bus);
    started = r < 0 ? r : kServing;
    started.notify_one();
    if (r < 0) {
        return;
    }
    // `started` belongs to the constructor, which may have returned by now.
    constexpr std::uint64_t kStopCheckUsec = 50'000;
    while (!stop_) {
        const int processed = sd_bus_process(bus.get(), nullptr);
        if (processed < 0) {
            return;
        }
        if (processed == 0) {
            sd_bus_wait(bus.get(), kStopCheckUsec);
        }
    }
}

} // namespace apitoken::bench
