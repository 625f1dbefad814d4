#pragma once

#include "ipc/bus_api.hpp"
#include "ipc/sensitive_string.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sd_bus;

namespace apitoken::ipc {

// How a call ended, in words each edge can map to its own vocabulary.
struct Outcome {
    enum class Kind {
        Ok,
        Refused,     // the daemon answered with one of our errors (see `error`)
        Unavailable, // no daemon, no bus, or no answer before the deadline
        OutOfMemory,
        Failed, // anything else (protocol error, unexpected reply)
    };
    Kind kind = Kind::Ok;
    Error error = Error::Failed; // meaningful when kind == Refused
    std::string message;         // for humans; never holds a secret
    // Unavailable because there is no system bus to connect to (dbus is not
    // running), not because apitokend is missing from it.
    bool no_bus = false;

    [[nodiscard]] bool ok() const noexcept { return kind == Kind::Ok; }
    [[nodiscard]] bool refused_with(Error e) const noexcept {
        return kind == Kind::Refused && error == e;
    }
};

struct CreatedToken {
    std::string id;
    SensitiveString token;
    std::int64_t created = 0;
    std::int64_t expires = 0; // 0: never
};

struct TokenInfo {
    std::string id;
    std::string name;
    std::int64_t created = 0;
    std::int64_t expires = 0;   // 0: never
    std::int64_t last_used = 0; // 0: never
    std::uint64_t use_count = 0;
    std::string last_service;
    std::string last_rhost;
    std::vector<std::string> services; // empty: any
};

struct DaemonStatus {
    std::string version;
    std::uint64_t token_count = 0;
    bool token_count_known = false; // only root and the admin group may read it
    std::int64_t max_lifetime = 0;  // seconds; 0: unlimited
};

// A typed client for io.apitoken1 over the system bus
// ($DBUS_SYSTEM_BUS_ADDRESS is honoured, except in setuid programs).
//
// Safe for a PAM module: no threads, no globals, no exceptions (every
// method is noexcept and reports failure in its Outcome), and one private
// connection per Client, made in the constructor and closed in the
// destructor, so a fork()ed process never shares a connection.
class Client {
public:
    // `timeout` bounds the connection set-up and the first call together
    // (a PAM login waits no longer than its timeout= even for a wedged bus
    // daemon), and each later call on its own.
    explicit Client(std::chrono::microseconds timeout) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&&) = delete;
    Client& operator=(Client&&) = delete;
    ~Client();

    // The message carrying the token is marked sensitive, so sd-bus wipes it.
    Outcome authenticate(std::string_view user, std::string_view token, std::string_view service,
                         std::string_view rhost, std::string* token_id = nullptr) noexcept;
    Outcome create_token(std::string_view user, std::string_view name, std::int64_t expires,
                         const std::vector<std::string>& services, CreatedToken& out) noexcept;
    Outcome list_tokens(std::string_view user, std::vector<TokenInfo>& out) noexcept;
    Outcome revoke_token(std::string_view user, std::string_view token_id) noexcept;
    Outcome revoke_all_tokens(std::string_view user, std::uint64_t& revoked) noexcept;
    Outcome rename_token(std::string_view user, std::string_view token_id,
                         std::string_view name) noexcept;
    Outcome status(DaemonStatus& out) noexcept;

private:
    // What is left of the first call's deadline, then the whole timeout.
    [[nodiscard]] std::uint64_t call_timeout_usec() noexcept;

    sd_bus* bus_ = nullptr;
    int connect_error_ = 0;
    std::uint64_t timeout_usec_ = 0;
    std::chrono::steady_clock::time_point first_call_deadline_;
    bool first_call_ = true;
};

} // namespace apitoken::ipc
