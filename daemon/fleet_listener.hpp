#pragma once

#include "fleet/pg_connection.hpp"
#include "ipc/sd_handles.hpp"

#include <cstdint>
#include <functional>
#include <memory>

struct sd_event;

namespace apitoken::daemon {

// The fleet's LISTEN connection on the daemon's loop: its socket is a
// source in sd-event, read only when the kernel says there is something
// to read, so the loop never waits on the database. Each batch of
// notifications calls `heard` (the follower catches up); a connection the
// server closed calls `lost` once and is dropped (the follower opens
// another).
class FleetListener {
public:
    FleetListener(sd_event* event, std::unique_ptr<fleet::PgConnection> connection,
                  std::function<void()> heard, std::function<void()> lost);

    [[nodiscard]] bool listening() const noexcept { return connection_ != nullptr; }

private:
    static int on_readable(sd_event_source* source, int fd, std::uint32_t events, void* userdata);
    void read();

    std::unique_ptr<fleet::PgConnection> connection_;
    ipc::EventSourcePtr source_;
    std::function<void()> heard_;
    std::function<void()> lost_;
};

} // namespace apitoken::daemon
