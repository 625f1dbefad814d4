#pragma once

#include "daemon/caller.hpp"

#include <systemd/sd-bus.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace apitoken::daemon {

// Asks the bus daemon (org.freedesktop.DBus.GetConnectionCredentials) who
// sent `message`. We ask the bus rather than /proc, because the bus recorded
// uid and groups from the socket when the caller connected: a caller cannot
// change them afterwards, and there is no pid-reuse race. Returns a negative
// errno on failure (then the call must be refused).
int query_caller(sd_bus_message* message, Caller& out);

// The same question without waiting for the answer, so that the event loop
// serves other calls (and an authentication hashes) during the round trip.
// Owns the questions in flight: destroying it drops them and their
// callbacks unanswered (at shutdown, before the bus is closed).
class CallerQueries {
public:
    // Runs on the event loop: 0 and the caller, or a negative errno.
    using Answer = std::function<void(int error, const Caller& caller)>;

    CallerQueries();
    CallerQueries(const CallerQueries&) = delete;
    CallerQueries& operator=(const CallerQueries&) = delete;
    CallerQueries(CallerQueries&&) = delete;
    CallerQueries& operator=(CallerQueries&&) = delete;
    ~CallerQueries();

    // Asks who sent `message`; `answer` runs exactly once unless this object
    // is destroyed first. Returns a negative errno when the question could
    // not be sent (then `answer` never runs).
    int ask(sd_bus_message* message, Answer answer);
    [[nodiscard]] std::size_t in_flight() const noexcept { return queries_.size(); }
    // Those asked about calls from the connection that sent `message`.
    [[nodiscard]] std::size_t in_flight_from(sd_bus_message* message) const;

private:
    struct Query;
    static int on_reply(sd_bus_message* reply, void* userdata, sd_bus_error* error);

    std::map<std::uint64_t, std::unique_ptr<Query>> queries_;
    std::map<std::string, std::size_t, std::less<>> per_sender_; // unique name -> in flight
    std::uint64_t next_key_ = 0;
};

} // namespace apitoken::daemon
