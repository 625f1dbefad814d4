#include "daemon/fleet_listener.hpp"

#include <systemd/sd-event.h>

#include <utility>

namespace apitoken::daemon {

FleetListener::FleetListener(sd_event* event, std::unique_ptr<fleet::PgConnection> connection,
                             std::function<void()> heard, std::function<void()> lost)
    : connection_(std::move(connection)),
      source_(ipc::watch_readable(event, connection_->socket(), on_readable, this,
                                  "cannot watch the fleet database's LISTEN connection")),
      heard_(std::move(heard)), lost_(std::move(lost)) {
    // Notifications that came with the answer to LISTEN wait in libpq.
    read();
}

int FleetListener::on_readable(sd_event_source* /*source*/, int /*fd*/, std::uint32_t /*events*/,
                               void* userdata) {
    try {
        static_cast<FleetListener*>(userdata)->read();
    } catch (...) { // NOLINT(bugprone-empty-catch): nothing may leave an sd-event callback
    }
    return 0;
}

// PQconsumeInput reads what the socket has and never waits for more.
void FleetListener::read() {
    if (!listening()) {
        return;
    }
    try {
        if (!connection_->notifications().empty()) {
            heard_();
        }
    } catch (const fleet::PgError&) {
        // sd-event lets a source go inside its own callback. (libpq may
        // have closed the socket already, at the end of the stream; the
        // kernel then forgot it in epoll, and the source's removal fails
        // harmlessly.)
        source_.reset();
        connection_.reset();
        lost_();
    }
}

} // namespace apitoken::daemon
