#include "ipc/bus_client.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <system_error>

namespace apitoken::ipc {
namespace {

struct MessageUnref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

struct BusError {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    BusError(BusError&&) = delete;
    BusError& operator=(BusError&&) = delete;
    ~BusError() { sd_bus_error_free(&error); }
};

struct StrvFree {
    void operator()(char** strv) const noexcept {
        for (char** s = strv; s != nullptr && *s != nullptr; ++s) {
            free(*s); // NOLINT(cppcoreguidelines-no-malloc): sd-bus allocated it
        }
        free(static_cast<void*>(strv)); // NOLINT(cppcoreguidelines-no-malloc)
    }
};

Outcome ok() {
    return {};
}

// For catch handlers: building a message could itself throw, so none.
Outcome out_of_memory() noexcept {
    Outcome outcome;
    outcome.kind = Outcome::Kind::OutOfMemory;
    return outcome;
}

Outcome internal_error() noexcept {
    Outcome outcome;
    outcome.kind = Outcome::Kind::Failed;
    return outcome;
}

Outcome failed(Outcome::Kind kind, std::string message) {
    return {kind, Error::Failed, std::move(message)};
}

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

bool means_unavailable_errno(int error) {
    constexpr std::array kErrnos{ECONNREFUSED, ENOENT,    ECONNRESET,   ENOTCONN, EPIPE,
                                 ETIMEDOUT,    ESHUTDOWN, EHOSTUNREACH, ENXIO,    ECONNABORTED};
    return std::ranges::any_of(kErrnos, [error](int e) { return e == error; });
}

bool means_unavailable_name(std::string_view name) {
    constexpr std::array<std::string_view, 8> kNames{
        SD_BUS_ERROR_SERVICE_UNKNOWN,
        SD_BUS_ERROR_NAME_HAS_NO_OWNER,
        SD_BUS_ERROR_NO_REPLY,
        SD_BUS_ERROR_TIMEOUT,
        "org.freedesktop.DBus.Error.TimedOut",
        SD_BUS_ERROR_DISCONNECTED,
        SD_BUS_ERROR_NO_SERVER,
        SD_BUS_ERROR_UNKNOWN_OBJECT,
    };
    for (const auto known : kNames) {
        if (name == known) {
            return true;
        }
    }
    // Activation failures: org.freedesktop.DBus.Error.Spawn.*
    return name.starts_with("org.freedesktop.DBus.Error.Spawn");
}

// The one place where sd-bus failures become Outcomes.
Outcome outcome_of(const sd_bus_error& error, int r) {
    const std::string_view name = error.name != nullptr ? error.name : "";
    const std::string message = error.message != nullptr ? error.message : errno_text(-r);
    if (const auto ours = error_from_name(name)) {
        return {Outcome::Kind::Refused, *ours, message};
    }
    const int errno_value = sd_bus_error_is_set(&error) ? sd_bus_error_get_errno(&error) : -r;
    if (name == SD_BUS_ERROR_NO_MEMORY || errno_value == ENOMEM) {
        return failed(Outcome::Kind::OutOfMemory, "out of memory");
    }
    if (name == SD_BUS_ERROR_ACCESS_DENIED) {
        return {Outcome::Kind::Refused, Error::AccessDenied,
                "the D-Bus policy refused the call: " + message};
    }
    if (means_unavailable_name(name) || means_unavailable_errno(errno_value)) {
        return failed(Outcome::Kind::Unavailable, message);
    }
    return failed(Outcome::Kind::Failed, message);
}

Outcome no_bus(int connect_error) {
    Outcome outcome = failed(Outcome::Kind::Unavailable,
                             "cannot connect to the system bus: " + errno_text(connect_error));
    outcome.no_bus = true;
    return outcome;
}

Outcome reply_error(int r) {
    return failed(r == -ENOMEM ? Outcome::Kind::OutOfMemory : Outcome::Kind::Failed,
                  "unexpected reply from apitokend: " + errno_text(-r));
}

bool has_nul(std::string_view text) {
    return text.find('\0') != std::string_view::npos;
}

// sd-bus wants NUL-terminated strings; string_views need not be.
std::string c_string(std::string_view text) {
    return std::string(text);
}

struct BusUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusUnref>;

constexpr const char* kDefaultSystemBusAddress = "unix:path=/run/dbus/system_bus_socket";

std::uint64_t usec_until(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<std::uint64_t>(left.count()) : 0;
}

// What sd_bus_open_system() does, but against our deadline: it would leave
// the socket authentication and Hello to sd-bus's own timeouts (tens of
// seconds), and the first sd_bus_call() waits for them without any, so a
// wedged bus daemon would hold a login that long.
int connect_system_bus(std::chrono::steady_clock::time_point deadline, std::uint64_t timeout_usec,
                       Bus& out) {
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    Bus bus(raw);
    if (r < 0) {
        return r;
    }
    // NOLINTNEXTLINE(concurrency-mt-unsafe): only read, as sd-bus itself does
    const char* address = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if ((r = sd_bus_set_address(bus.get(),
                                address != nullptr ? address : kDefaultSystemBusAddress)) < 0 ||
        (r = sd_bus_set_bus_client(bus.get(), 1)) < 0 ||
        // Bounds Hello, and later the calls without an explicit timeout.
        (r = sd_bus_set_method_call_timeout(bus.get(), timeout_usec)) < 0 ||
        (r = sd_bus_start(bus.get())) < 0) {
        return r;
    }
    while ((r = sd_bus_is_ready(bus.get())) == 0) {
        if ((r = sd_bus_process(bus.get(), nullptr)) < 0) {
            return r;
        }
        if (r > 0) {
            continue;
        }
        const std::uint64_t left = usec_until(deadline);
        if (left == 0) {
            return -ETIMEDOUT;
        }
        if ((r = sd_bus_wait(bus.get(), left)) < 0) {
            return r;
        }
    }
    if (r < 0) {
        return r;
    }
    out = std::move(bus);
    return 0;
}

} // namespace

Client::Client(std::chrono::microseconds timeout) noexcept
    : timeout_usec_(static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 1))),
      first_call_deadline_(std::chrono::steady_clock::now() + timeout) {
    Bus bus;
    const int r = connect_system_bus(first_call_deadline_, timeout_usec_, bus);
    if (r < 0) {
        connect_error_ = -r;
        return;
    }
    bus_ = bus.release();
}

std::uint64_t Client::call_timeout_usec() noexcept {
    if (!first_call_) {
        return timeout_usec_;
    }
    first_call_ = false;
    // 0 would mean sd-bus's default (25 s); 1 us times out at once.
    return std::max<std::uint64_t>(usec_until(first_call_deadline_), 1);
}

Client::~Client() {
    sd_bus_close_unref(bus_);
}

namespace {

// Builds, sends and waits for one method call. `append` adds the arguments,
// `read` parses the reply; both return sd-bus style negative errno codes.
template <typename Append, typename Read>
Outcome call_method(sd_bus* bus, int connect_error, std::uint64_t timeout_usec, const char* method,
                    bool sensitive, Append&& append, Read&& read) noexcept {
    try {
        if (bus == nullptr) {
            return no_bus(connect_error);
        }
        sd_bus_message* raw = nullptr;
        int r =
            sd_bus_message_new_method_call(bus, &raw, kBusName, kObjectPath, kInterface, method);
        Message call(raw);
        if (r < 0) {
            return reply_error(r);
        }
        if (sensitive && (r = sd_bus_message_sensitive(call.get())) < 0) {
            return reply_error(r);
        }
        if ((r = append(call.get())) < 0) {
            return reply_error(r);
        }
        BusError error;
        sd_bus_message* raw_reply = nullptr;
        r = sd_bus_call(bus, call.get(), timeout_usec, &error.error, &raw_reply);
        const Message reply(raw_reply);
        if (r < 0) {
            return outcome_of(error.error, r);
        }
        if (sensitive) {
            sd_bus_message_sensitive(reply.get());
        }
        if ((r = read(reply.get())) < 0) {
            return reply_error(r);
        }
        return ok();
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    } catch (...) {
        return internal_error();
    }
}

int read_nothing(sd_bus_message* /*reply*/) {
    return 0;
}

Outcome invalid(const char* what) {
    return {Outcome::Kind::Refused, Error::InvalidArgument,
            std::string(what) + " contains a NUL byte"};
}

int read_token_info(sd_bus_message* reply, TokenInfo& info) {
    const char* id = nullptr;
    const char* name = nullptr;
    const char* last_service = nullptr;
    const char* last_rhost = nullptr;
    int r = sd_bus_message_read(reply, "ssxxxtss", &id, &name, &info.created, &info.expires,
                                &info.last_used, &info.use_count, &last_service, &last_rhost);
    if (r < 0) {
        return r;
    }
    info.id = id, info.name = name, info.last_service = last_service, info.last_rhost = last_rhost;
    char** raw_services = nullptr;
    r = sd_bus_message_read_strv(reply, &raw_services);
    const std::unique_ptr<char*, StrvFree> services(raw_services);
    if (r < 0) {
        return r;
    }
    for (char** s = raw_services; s != nullptr && *s != nullptr; ++s) {
        info.services.emplace_back(*s);
    }
    return 0;
}

int read_token_list(sd_bus_message* reply, std::vector<TokenInfo>& out) {
    int r = sd_bus_message_enter_container(reply, 'a', signature::kTokenInfo);
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_enter_container(reply, 'r', "ssxxxtssas")) > 0) {
        TokenInfo info;
        if ((r = read_token_info(reply, info)) < 0 ||
            (r = sd_bus_message_exit_container(reply)) < 0) {
            return r;
        }
        out.push_back(std::move(info));
    }
    return r < 0 ? r : sd_bus_message_exit_container(reply);
}

int append_strv(sd_bus_message* m, const std::vector<std::string>& values) {
    int r = sd_bus_message_open_container(m, 'a', "s");
    for (const auto& value : values) {
        if (r >= 0) {
            r = sd_bus_message_append_basic(m, 's', value.c_str());
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

} // namespace

Outcome Client::authenticate(std::string_view user, std::string_view token,
                             std::string_view service, std::string_view rhost,
                             std::string* token_id) noexcept {
    try {
        if (has_nul(user) || has_nul(token) || has_nul(service) || has_nul(rhost)) {
            return invalid("an argument");
        }
        const SensitiveString secret(token);
        const std::string u = c_string(user);
        const std::string s = c_string(service);
        const std::string h = c_string(rhost);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kAuthenticate, true,
            [&](sd_bus_message* m) {
                return sd_bus_message_append(m, "ssss", u.c_str(), secret.c_str(), s.c_str(),
                                             h.c_str());
            },
            [&](sd_bus_message* reply) {
                const char* id = nullptr;
                const int r = sd_bus_message_read(reply, "s", &id);
                if (r >= 0 && token_id != nullptr) {
                    *token_id = id;
                }
                return r;
            });
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::create_token(std::string_view user, std::string_view name, std::int64_t expires,
                             const std::vector<std::string>& services, CreatedToken& out) noexcept {
    try {
        if (has_nul(user) || has_nul(name)) {
            return invalid("the user or token name");
        }
        const std::string u = c_string(user);
        const std::string n = c_string(name);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kCreateToken, true,
            [&](sd_bus_message* m) {
                const int r = sd_bus_message_append(m, "ssx", u.c_str(), n.c_str(), expires);
                return r < 0 ? r : append_strv(m, services);
            },
            [&](sd_bus_message* reply) {
                const char* id = nullptr;
                const char* token = nullptr;
                const int r =
                    sd_bus_message_read(reply, "ssxx", &id, &token, &out.created, &out.expires);
                if (r >= 0) {
                    out.id = id;
                    out.token = SensitiveString(token);
                }
                return r;
            });
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::list_tokens(std::string_view user, std::vector<TokenInfo>& out) noexcept {
    try {
        if (has_nul(user)) {
            return invalid("the user");
        }
        const std::string u = c_string(user);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kListTokens, false,
            [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", u.c_str()); },
            [&](sd_bus_message* reply) { return read_token_list(reply, out); });
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::revoke_token(std::string_view user, std::string_view token_id) noexcept {
    try {
        if (has_nul(user) || has_nul(token_id)) {
            return invalid("the user or token id");
        }
        const std::string u = c_string(user);
        const std::string id = c_string(token_id);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kRevokeToken, false,
            [&](sd_bus_message* m) {
                return sd_bus_message_append(m, "ss", u.c_str(), id.c_str());
            },
            read_nothing);
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::revoke_all_tokens(std::string_view user, std::uint64_t& revoked) noexcept {
    try {
        if (has_nul(user)) {
            return invalid("the user");
        }
        const std::string u = c_string(user);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kRevokeAllTokens, false,
            [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", u.c_str()); },
            [&](sd_bus_message* reply) { return sd_bus_message_read(reply, "t", &revoked); });
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::rename_token(std::string_view user, std::string_view token_id,
                             std::string_view name) noexcept {
    try {
        if (has_nul(user) || has_nul(token_id) || has_nul(name)) {
            return invalid("an argument");
        }
        const std::string u = c_string(user);
        const std::string id = c_string(token_id);
        const std::string n = c_string(name);
        return call_method(
            bus_, connect_error_, call_timeout_usec(), method::kRenameToken, false,
            [&](sd_bus_message* m) {
                return sd_bus_message_append(m, "sss", u.c_str(), id.c_str(), n.c_str());
            },
            read_nothing);
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::status(DaemonStatus& out) noexcept {
    try {
        if (bus_ == nullptr) {
            return no_bus(connect_error_);
        }
        BusError error;
        char* version = nullptr;
        int r = sd_bus_get_property_string(bus_, kBusName, kObjectPath, kInterface, "Version",
                                           &error.error, &version);
        if (r < 0) {
            return outcome_of(error.error, r);
        }
        out.version = version;
        free(version); // NOLINT(cppcoreguidelines-no-malloc): sd-bus allocated it
        r = sd_bus_get_property_trivial(bus_, kBusName, kObjectPath, kInterface, "MaxLifetime",
                                        &error.error, 'x', &out.max_lifetime);
        if (r < 0) {
            return outcome_of(error.error, r);
        }
        // Only root and the admin group may read the total; others get no count.
        sd_bus_error_free(&error.error);
        r = sd_bus_get_property_trivial(bus_, kBusName, kObjectPath, kInterface, "TokenCount",
                                        &error.error, 't', &out.token_count);
        out.token_count_known = r >= 0;
        if (r < 0 && outcome_of(error.error, r).refused_with(Error::AccessDenied)) {
            r = 0;
        }
        return r < 0 ? outcome_of(error.error, r) : ok();
    } catch (...) {
        return out_of_memory();
    }
}

} // namespace apitoken::ipc
