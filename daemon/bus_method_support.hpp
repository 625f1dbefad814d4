#pragma once

// What every io.apitoken1.Manager method handler shares: reading
// arguments, waiting for the caller's identity, and the one mapping of
// refusals to D-Bus errors.
#include "daemon/api_error.hpp"
#include "daemon/bus_object.hpp"
#include "daemon/caller.hpp"
#include "daemon/wall_clock.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/sd_handles.hpp"
#include "ipc/token_info.hpp"
#include "store/token_issuer.hpp"
#include "store/token_record.hpp"

#include <systemd/sd-bus.h>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon::bus {

[[nodiscard]] BusObject& object_of(void* userdata);

// The one place where the daemon's refusals become D-Bus errors.
int set_error(sd_bus_error* error, const Failure& failure);
void reply_failure(sd_bus_message* m, const Failure& failure);

// Runs a handler body, mapping whatever it throws to a D-Bus error.
template <typename Body>
int guarded(sd_bus_error* error, const AuditLog& log, Body&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return set_error(error, failure_of_current_exception(log));
    }
}

// Throws InvalidArgument for what sd-bus could not read (E2BIG: over the
// a{sv} limits; EBADMSG: a value of a type no method takes).
void check_read(int r);
[[nodiscard]] std::vector<std::string> read_strings(sd_bus_message* m);
// An "as" of at most `max_items` strings of at most `max_bytes` each
// (InvalidArgument beyond), each passed to `take` as it is read.
void read_bounded_strings(sd_bus_message* m, std::size_t max_items, std::size_t max_bytes,
                          const std::function<void(const char*, std::size_t)>& take);
// A token is copied into locked, wiped memory at once; anything longer than
// a token cannot be one and is not copied at all (it fails as malformed).
[[nodiscard]] store::SecretBuffer secret_from(const char* text);

// What a call's arguments hold (its message waits for the caller meanwhile).
[[nodiscard]] std::size_t text_bytes(std::initializer_list<const char*> texts);
[[nodiscard]] std::size_t text_bytes(const std::vector<std::string>& texts);

// A management call's body, run once the bus has named the caller: it
// returns what an sd-bus handler returns (it has replied, or will), or
// throws a refusal. Runs on the loop thread.
using ManagementBody = std::function<int(sd_bus_message* call, const Caller& caller)>;

// Runs `body` when the caller is known, without blocking the loop on the
// round trip to the bus daemon, and makes sure the call is answered.
int after_caller_is_known(BusObject& self, sd_bus_message* m, std::size_t bytes,
                          ManagementBody body);

// An empty reply to `call`; null, with `r` < 0, when it cannot be made.
[[nodiscard]] ipc::MessagePtr new_reply(sd_bus_message* call, int& r);
// Sends `reply` (made with new_reply; r: how that went); on any failure
// answers `call` with the error instead. Returns what a handler returns.
int send_or_fail(sd_bus_message* call, const ipc::MessagePtr& reply, int r);

// A record as the bus shows it: ListTokens' fields, or (`complete`) every
// field of ListTokensEx.
[[nodiscard]] ipc::TokenInfo info_of(const store::TokenRecord& record);
[[nodiscard]] ipc::TokenInfo full_info_of(const store::TokenRecord& record, bool orphaned,
                                          bool expiring_soon);

// Appends "s token" to a reply carrying a new token (made sensitive, so
// sd-bus wipes it), the text copied in wiped memory.
int append_token_text(sd_bus_message* reply, const store::IssuedToken& issued);

// The typed values of an a{sv}: nullopt when absent; InvalidArgument
// naming the key when it has another type.
template <typename T>
std::optional<T> item(const ipc::Dictionary& items, const char* key, const char* type_name) {
    bool wrong_type = false;
    auto value = ipc::value_of<T>(items, key, wrong_type);
    if (wrong_type) {
        throw ApiError(ipc::Error::InvalidArgument,
                       std::string("\"") + key + "\" must be " + type_name);
    }
    return value;
}
[[nodiscard]] std::optional<std::string> text_item(const ipc::Dictionary& items, const char* key);
[[nodiscard]] std::optional<std::vector<std::string>> list_item(const ipc::Dictionary& items,
                                                                const char* key);
// Seconds (a span, or a time): 0 up to the year 9999, so that no
// arithmetic on them can overflow; InvalidArgument beyond.
[[nodiscard]] std::optional<std::int64_t> seconds_item(const ipc::Dictionary& items,
                                                       const char* key);
// Absent is false.
[[nodiscard]] bool flag_item(const ipc::Dictionary& items, const char* key);

} // namespace apitoken::daemon::bus
