#pragma once

#include "ipc/bus_api.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/sd_handles.hpp"
#include "ipc/sensitive_string.hpp"
#include "ipc/token_info.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
    // The daemon does not have the method (an older apitokend).
    bool unknown_method = false;

    [[nodiscard]] bool ok() const noexcept { return kind == Kind::Ok; }
    [[nodiscard]] bool refused_with(Error e) const noexcept {
        return kind == Kind::Refused && error == e;
    }
};

// Where an authentication comes from, as the service (the PAM module)
// reports it. The daemon counts failed attempts per source; it believes
// these only from root and the auth group.
struct AuthContext {
    std::string_view service;                   // PAM_SERVICE
    std::string_view rhost;                     // PAM_RHOST
    std::string_view ruser;                     // PAM_RUSER
    std::optional<std::uint32_t> requester_uid; // getuid() of the service's process
};

struct CreatedToken {
    std::string id;
    SensitiveString token;
    std::int64_t created = 0;
    std::int64_t expires = 0; // 0: never
    TokenInfo info;           // CreateTokenEx, RotateToken: the whole record
};

// One answer of LookupTokens: user and name only for ids the caller may see.
struct TokenLookup {
    std::string id;
    std::string state; // token_state::kLive, kRevoked, kExpired, kUnknown
    std::string user;
    std::string name;
};

// What ImportTokens did with one token.
struct ImportResult {
    std::string origin_id;
    std::string result; // import_result::kImported, kAlreadyImported
    std::string id;
    std::string name;
};

struct DaemonStatus {
    std::string version;
    std::uint64_t token_count = 0;
    bool token_count_known = false; // only root and the admin group may read it
    std::int64_t max_lifetime = 0;  // seconds; 0: unlimited
    // The FleetState property (mode "single-host", or fleet mode's state:
    // host_name, connected, problem, last_sync, offline_since, lag,
    // replica_seq, queued_revocations, failing_closed); empty from a daemon
    // that predates it.
    Dictionary fleet{};
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
    // DirectFirst: the direct socket (bus_api.hpp, kDirectSocketPath, or
    // $APITOKEN_SOCKET outside setuid programs), then the system bus.
    enum class Transport { DirectFirst, BusOnly };
    explicit Client(std::chrono::microseconds timeout,
                    Transport transport = Transport::DirectFirst) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&&) = delete;
    Client& operator=(Client&&) = delete;
    ~Client();

    // The message carrying the token is marked sensitive, so sd-bus wipes it.
    // AuthenticateEx; a daemon that does not know it yet gets Authenticate
    // (service and rhost only).
    Outcome authenticate(std::string_view user, std::string_view token, const AuthContext& context,
                         std::string* token_id = nullptr) noexcept;
    Outcome authenticate(std::string_view user, std::string_view token, std::string_view service,
                         std::string_view rhost, std::string* token_id = nullptr) noexcept;
    Outcome create_token(std::string_view user, std::string_view name, std::int64_t expires,
                         const std::vector<std::string>& services, CreatedToken& out) noexcept;
    Outcome list_tokens(std::string_view user, std::vector<TokenInfo>& out) noexcept;
    // ListTokensEx (orphaned tokens for root and admins, owner and uid of
    // each); ListTokens from a daemon that does not know it yet.
    Outcome list_tokens_ex(std::string_view user, const Dictionary& filter,
                           std::vector<TokenInfo>& out) noexcept;
    // The a{sv} methods (bus_api.hpp has their keys).
    Outcome create_token_ex(std::string_view user, std::string_view name, const Dictionary& options,
                            CreatedToken& out) noexcept;
    Outcome update_token(std::string_view user, std::string_view token_id,
                         const Dictionary& changes) noexcept;
    Outcome rotate_token(std::string_view user, std::string_view token_id,
                         const Dictionary& options, CreatedToken& out) noexcept;
    Outcome revoke_tokens(std::string_view user, const Dictionary& filter,
                          std::vector<std::string>& revoked) noexcept;
    Outcome revoke_token(std::string_view user, std::string_view token_id) noexcept;
    Outcome revoke_all_tokens(std::string_view user, std::uint64_t& revoked) noexcept;
    Outcome rename_token(std::string_view user, std::string_view token_id,
                         std::string_view name) noexcept;
    Outcome status(DaemonStatus& out) noexcept;
    // Leak scanning: at most kMaxLookupIds ids, kMaxLeakedTokens tokens per
    // call (the message carrying tokens is marked sensitive).
    Outcome lookup_tokens(const std::vector<std::string>& token_ids,
                          std::vector<TokenLookup>& out) noexcept;
    Outcome revoke_leaked_tokens(const std::vector<SensitiveString>& tokens,
                                 std::vector<std::string>& revoked) noexcept;
    // ImportTokens: `tokens` as bus_api.hpp says (at most kMaxImportTokens).
    Outcome import_tokens(std::string_view user, const std::vector<Dictionary>& tokens,
                          std::vector<ImportResult>& out) noexcept;

    // Whether this client talks to apitokend over the direct socket, and
    // which socket ("" on the bus).
    [[nodiscard]] bool direct() const noexcept { return !direct_socket_.empty(); }
    [[nodiscard]] const std::string& direct_socket() const noexcept { return direct_socket_; }

private:
    enum class Secrecy { Public, Sensitive }; // Sensitive: sd-bus wipes the messages
    template <typename Read, typename... Args>
    Outcome call(const char* method, Secrecy secrecy, Read&& read, const Args&... args) noexcept;
    Outcome read_fleet_state(Dictionary& out);
    // What is left of the first call's deadline, then the whole timeout.
    [[nodiscard]] std::uint64_t call_timeout_usec() noexcept;

    BusPtr bus_;
    std::string direct_socket_;
    int connect_error_ = 0;
    std::uint64_t timeout_usec_ = 0;
    std::chrono::steady_clock::time_point first_call_deadline_;
    bool first_call_ = true;
};

} // namespace apitoken::ipc
