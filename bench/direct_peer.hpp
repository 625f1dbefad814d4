#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace apitoken::bench {

// The trivial counterpart of the raw direct ping: a D-Bus peer-to-peer
// server on a Unix socket, served as apitokend serves its direct socket
// (one thread, sd-event, an sd-bus server connection per accepted socket,
// no broker, no Hello), with no object: sd-bus itself answers
// org.freedesktop.DBus.Peer.Ping. No code of ours runs on that path, so it
// measures the socket, the SASL handshake and sd-bus alone.
class DirectPeer {
public:
    // Listens on `socket` (replacing a stale one) and serves on a thread of
    // its own until destroyed; throws std::system_error when it cannot.
    explicit DirectPeer(std::filesystem::path socket);
    DirectPeer(const DirectPeer&) = delete;
    DirectPeer& operator=(const DirectPeer&) = delete;
    DirectPeer(DirectPeer&&) = delete;
    DirectPeer& operator=(DirectPeer&&) = delete;
    ~DirectPeer();

    // "unix:path=...", for sd_bus_set_address.
    [[nodiscard]] std::string address() const { return "unix:path=" + socket_.string(); }

private:
    struct Loop;

    std::filesystem::path socket_;
    std::unique_ptr<Loop> loop_; // behind a pointer: sd-bus stays out of this header
    std::thread thread_;
};

} // namespace apitoken::bench
