#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace apitoken::bench {

// The test bus's policy lets root own this name and anyone call it
// (systemd/test-bus.conf.in).
inline constexpr const char* kEchoBusName = "io.apitoken1.bench.Echo";

// The trivial service of the raw bus round trip: a connection of this
// process, on its own thread, that owns kEchoBusName and does nothing but
// let sd-bus answer org.freedesktop.DBus.Peer.Ping. No code of ours runs
// on that path, so it measures the bus and sd-bus alone.
class EchoService {
public:
    // Connects to `bus_address`, owns the name, and returns once it does;
    // throws std::runtime_error when it cannot.
    explicit EchoService(const std::string& bus_address);
    EchoService(const EchoService&) = delete;
    EchoService& operator=(const EchoService&) = delete;
    EchoService(EchoService&&) = delete;
    EchoService& operator=(EchoService&&) = delete;
    ~EchoService();

private:
    void serve(const std::string& bus_address, std::atomic<int>& started);

    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace apitoken::bench
