#pragma once

#include "daemon/caller.hpp"
#include "daemon/caller_lookup.hpp"

#include <systemd/sd-bus.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace apitoken::daemon {

// Asks the bus daemon (org.freedesktop.DBus.GetConnectionCredentials) who
// sent `message`. We ask the bus rather than /proc, because the bus recorded
// uid and groups from the socket when the caller connected: a caller cannot
// change them afterwards, and there is no pid-reuse race. Waits at most 2 s.
// Returns a negative errno on failure (then the call must be refused).
int query_caller(sd_bus_message* message, Caller& out);

// Why the bus did not name a caller, as the call's refusal. Fail closed; but
// when the answer only came too late (the daemon is that far behind: it is
// overloaded), the caller is told so rather than that it may not ask.
[[nodiscard]] Failure unidentified(int error);

// The same question without waiting for the answer, so that the event loop
// serves other calls (and an authentication hashes) during the round trip.
// Asks once per connection: the answer is remembered (for the last
// kMaxKnownConnections connections), and the calls of a connection that
// arrive while its question is out wait for the same answer. Owns the
// questions in flight: destroying it drops them and their answers (at
// shutdown, before the bus is closed).
//
// Each waiting call holds its message. One connection may have thousands of
// calls in flight (the bus caps it, but only by configuration), so a new
// call is refused (Busy) at once beyond kMaxWaitingPerConnection waiting
// calls from its connection, or kMaxWaiting waiting calls in all that are
// not their connection's first. A connection's first call (a PAM login
// makes one) is refused only when kMaxConnectionsWaiting connections wait
// already: memory stays bounded by these counts, and a flood of calls from
// some connections leaves the others served.
class CallerQueries {
public:
    static constexpr std::size_t kMaxWaiting = 1024;
    static constexpr std::size_t kMaxWaitingPerConnection = 64;
    static constexpr std::size_t kMaxConnectionsWaiting = 4096;
    static constexpr std::size_t kMaxKnownConnections = 4096;

    // Calls whose arguments hold more than this many bytes also count
    // against kMaxWaitingBytes while they wait (a login's call is far
    // smaller): each waiting call holds its whole message.
    static constexpr std::size_t kSmallCallBytes = std::size_t{64} << 10U;
    static constexpr std::size_t kMaxWaitingBytes = std::size_t{64} << 20U;

    // The CallerLookup of one call; `bytes`: what its arguments hold.
    class Lookup final : public CallerLookup {
    public:
        Lookup(CallerQueries& owner, sd_bus_message* message, std::size_t bytes)
            : owner_(owner), message_(message), bytes_(bytes) {}
        void identify(Answer answer) override { owner_.ask(message_, answer, bytes_); }

    private:
        CallerQueries& owner_;
        sd_bus_message* message_;
        std::size_t bytes_;
    };

    CallerQueries();
    CallerQueries(const CallerQueries&) = delete;
    CallerQueries& operator=(const CallerQueries&) = delete;
    CallerQueries(CallerQueries&&) = delete;
    CallerQueries& operator=(CallerQueries&&) = delete;
    ~CallerQueries();

    // Asks who sent `message`; `answer` runs exactly once (at once when the
    // answer is known or the question cannot be asked) unless this object
    // is destroyed first.
    void ask(sd_bus_message* message, const CallerLookup::Answer& answer, std::size_t bytes = 0);
    // The same, blocking the loop (at most 2 s) when this connection was not
    // asked about before: for property getters, which must answer at once.
    // Returns a negative errno on failure.
    int ask_now(sd_bus_message* message, Caller& out);
    // Calls waiting for an answer.
    [[nodiscard]] std::size_t in_flight() const noexcept { return waiting_; }

    // A direct (peer-to-peer) connection: its caller is what the kernel said
    // when it connected (SO_PEERCRED, SO_PEERGROUPS); its calls carry no
    // sender and are answered from this at once. Forgotten when it closes.
    void add_direct(sd_bus* connection, const Caller& caller);
    void remove_direct(sd_bus* connection) noexcept;

private:
    struct Query;
    static int on_reply(sd_bus_message* reply, void* userdata, sd_bus_error* error);
    int send(sd_bus_message* message, const char* sender, const CallerLookup::Answer& answer);
    void remember(const std::string& sender, const Caller& caller);

    std::map<std::string, std::unique_ptr<Query>, std::less<>> queries_; // by unique name
    std::size_t waiting_ = 0;
    std::size_t waiting_bytes_ = 0;                    // of the large calls waiting
    std::map<std::string, Caller, std::less<>> known_; // unique name -> caller
    std::map<sd_bus*, Caller> direct_;                 // direct connection -> caller
    std::deque<std::string> known_order_;              // oldest first
};

} // namespace apitoken::daemon
