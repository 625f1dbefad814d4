#include "ipc/bus_client.hpp"

#include "ipc/client_connection.hpp"
#include "ipc/client_outcome.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/message_codec.hpp"
#include "ipc/sd_handles.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <new>

namespace apitoken::ipc {

using client_detail::connect_to;
using client_detail::direct_socket_path;
using client_detail::internal_error;
using client_detail::no_bus;
using client_detail::ok;
using client_detail::out_of_memory;
using client_detail::outcome_of;
using client_detail::reply_error;
using client_detail::system_bus_address;
using client_detail::usec_until;

Client::Client(std::chrono::microseconds timeout, Transport transport) noexcept
    : timeout_usec_(static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 1))),
      first_call_deadline_(std::chrono::steady_clock::now() + timeout) {
    try {
        // The direct socket first: absent, refusing (limits) or failing its
        // handshake, the bus. No call has been sent yet, so none is repeated.
        const std::string direct =
            transport == Transport::DirectFirst ? direct_socket_path() : std::string();
        if (!direct.empty() && connect_to("unix:path=" + direct, false, first_call_deadline_,
                                          timeout_usec_, bus_) == 0) {
            direct_socket_ = direct;
            return;
        }
        const int r =
            connect_to(system_bus_address(), true, first_call_deadline_, timeout_usec_, bus_);
        if (r < 0) {
            connect_error_ = -r;
        }
    } catch (const std::bad_alloc&) {
        connect_error_ = ENOMEM;
    }
}

std::uint64_t Client::call_timeout_usec() noexcept {
    if (!first_call_) {
        return timeout_usec_;
    }
    first_call_ = false;
    // 0 would mean sd-bus's default (25 s); 1 us times out at once.
    return std::max<std::uint64_t>(usec_until(first_call_deadline_), 1);
}

Client::~Client() = default;

namespace {

// The arguments of a call, appended in order. Strings must not hold NUL
// (sd-bus takes C strings); the token travels as a SensitiveString.
bool has_nul(std::string_view text) {
    return text.find('\0') != std::string_view::npos;
}
bool has_nul(const SensitiveString& text) {
    return has_nul(text.view());
}
bool has_nul(const std::vector<SensitiveString>& texts) {
    return std::ranges::any_of(texts, [](const SensitiveString& t) { return has_nul(t); });
}
template <typename T>
bool has_nul(const T& /*not a string*/) {
    return false;
}

int append_one(sd_bus_message* m, std::string_view text) {
    const std::string c_string(text);
    return sd_bus_message_append_basic(m, 's', c_string.c_str());
}
int append_one(sd_bus_message* m, const SensitiveString& secret) {
    return sd_bus_message_append_basic(m, 's', secret.c_str());
}
int append_one(sd_bus_message* m, const std::vector<SensitiveString>& secrets) {
    int r = sd_bus_message_open_container(m, 'a', "s");
    for (auto it = secrets.begin(); r >= 0 && it != secrets.end(); ++it) {
        r = append_one(m, *it);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}
int append_one(sd_bus_message* m, std::int64_t value) {
    return sd_bus_message_append_basic(m, 'x', &value);
}
int append_one(sd_bus_message* m, const std::vector<std::string>& values) {
    return append_strings(m, values);
}
int append_one(sd_bus_message* m, const Dictionary& dictionary) {
    return append_dictionary(m, dictionary);
}
int append_one(sd_bus_message* m, const std::vector<Dictionary>& dictionaries) {
    return append_dictionaries(m, dictionaries);
}
bool has_nul(const Dictionary& dictionary) {
    return std::ranges::any_of(dictionary, [](const auto& entry) {
        const auto& value = static_cast<const Value::variant&>(entry.second);
        if (const auto* text = std::get_if<std::string>(&value)) {
            return has_nul(*text);
        }
        if (const auto* texts = std::get_if<std::vector<std::string>>(&value)) {
            return std::ranges::any_of(*texts, [](const auto& t) { return has_nul(t); });
        }
        return false;
    });
}
bool has_nul(const std::vector<Dictionary>& dictionaries) {
    return std::ranges::any_of(dictionaries, [](const Dictionary& d) { return has_nul(d); });
}

Dictionary items_of(const AuthContext& context) {
    Dictionary items{{key::kService, std::string(context.service)},
                     {key::kRhost, std::string(context.rhost)}};
    if (!context.ruser.empty()) {
        items.emplace(key::kRuser, std::string(context.ruser));
    }
    if (context.requester_uid) {
        items.emplace(key::kRequesterUid, *context.requester_uid);
    }
    return items;
}

template <typename... Args>
int append_all(sd_bus_message* m, const Args&... args) {
    int r = 0;
    // Stops at the first failure: && short-circuits the fold.
    static_cast<void>((((r = append_one(m, args)) >= 0) && ...));
    return r;
}

int read_nothing(sd_bus_message* /*reply*/) {
    return 0;
}

} // namespace

// Builds, sends and waits for one method call; `read` parses the reply
// (a negative errno on failure). Every failure becomes an Outcome here.
template <typename Read, typename... Args>
Outcome Client::call(const char* method, Secrecy secrecy, Read&& read,
                     const Args&... args) noexcept {
    try {
        if ((has_nul(args) || ...)) {
            return {Outcome::Kind::Refused, Error::InvalidArgument,
                    std::string("an argument of ") + method + " contains a NUL byte"};
        }
        const std::uint64_t timeout = call_timeout_usec();
        if (!bus_) {
            return no_bus(connect_error_);
        }
        const bool sensitive = secrecy == Secrecy::Sensitive;
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus_.get(), &raw, kBusName, kObjectPath, kInterface,
                                               method);
        const MessagePtr call(raw);
        if (r < 0 || (sensitive && (r = sd_bus_message_sensitive(call.get())) < 0) ||
            (r = append_all(call.get(), args...)) < 0) {
            return reply_error(r);
        }
        BusError error;
        sd_bus_message* raw_reply = nullptr;
        r = sd_bus_call(bus_.get(), call.get(), timeout, error.get(), &raw_reply);
        const MessagePtr reply(raw_reply);
        if (r < 0) {
            return outcome_of(*error, r);
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

Outcome Client::authenticate(std::string_view user, std::string_view token,
                             const AuthContext& context, std::string* token_id) noexcept {
    try {
        const SensitiveString secret(token);
        const auto read_id = [&](sd_bus_message* reply) {
            const char* id = nullptr;
            const int r = sd_bus_message_read_basic(reply, 's', &id);
            if (r >= 0 && token_id != nullptr) {
                *token_id = id;
            }
            return r;
        };
        Outcome outcome = call(method::kAuthenticateEx, Secrecy::Sensitive, read_id, user, secret,
                               items_of(context));
        if (outcome.unknown_method) {
            outcome = call(method::kAuthenticate, Secrecy::Sensitive, read_id, user, secret,
                           context.service, context.rhost);
        }
        return outcome;
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::authenticate(std::string_view user, std::string_view token,
                             std::string_view service, std::string_view rhost,
                             std::string* token_id) noexcept {
    return authenticate(user, token, AuthContext{service, rhost, {}, std::nullopt}, token_id);
}

Outcome Client::create_token(std::string_view user, std::string_view name, std::int64_t expires,
                             const std::vector<std::string>& services, CreatedToken& out) noexcept {
    return call(
        method::kCreateToken, Secrecy::Sensitive,
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
        },
        user, name, expires, services);
}

Outcome Client::list_tokens(std::string_view user, std::vector<TokenInfo>& out) noexcept {
    return call(
        method::kListTokens, Secrecy::Public,
        [&](sd_bus_message* reply) { return read_token_list(reply, out); }, user);
}

Outcome Client::list_tokens_ex(std::string_view user, const Dictionary& filter,
                               std::vector<TokenInfo>& out) noexcept {
    try {
        std::vector<Dictionary> tokens;
        Outcome outcome = call(
            method::kListTokensEx, Secrecy::Public,
            [&](sd_bus_message* reply) { return read_dictionaries(reply, tokens, kReplyLimits); },
            user, filter);
        if (outcome.unknown_method) {
            return list_tokens(user, out);
        }
        for (const auto& token : tokens) {
            out.push_back(token_info_of(token));
        }
        return outcome;
    } catch (...) {
        return out_of_memory();
    }
}

namespace {

// (s id, s token, a{sv} info) of CreateTokenEx and RotateToken.
int read_created(sd_bus_message* reply, CreatedToken& out) {
    const char* id = nullptr;
    const char* token = nullptr;
    int r = sd_bus_message_read(reply, "ss", &id, &token);
    if (r < 0) {
        return r;
    }
    out.id = id;
    out.token = SensitiveString(token);
    Dictionary info;
    if ((r = read_dictionary(reply, info, kReplyLimits)) < 0) {
        return r;
    }
    out.info = token_info_of(info);
    out.created = out.info.created;
    out.expires = out.info.expires;
    return 0;
}

} // namespace

Outcome Client::create_token_ex(std::string_view user, std::string_view name,
                                const Dictionary& options, CreatedToken& out) noexcept {
    return call(
        method::kCreateTokenEx, Secrecy::Sensitive,
        [&](sd_bus_message* reply) { return read_created(reply, out); }, user, name, options);
}

Outcome Client::update_token(std::string_view user, std::string_view token_id,
                             const Dictionary& changes) noexcept {
    return call(method::kUpdateToken, Secrecy::Public, read_nothing, user, token_id, changes);
}

Outcome Client::rotate_token(std::string_view user, std::string_view token_id,
                             const Dictionary& options, CreatedToken& out) noexcept {
    return call(
        method::kRotateToken, Secrecy::Sensitive,
        [&](sd_bus_message* reply) { return read_created(reply, out); }, user, token_id, options);
}

Outcome Client::revoke_tokens(std::string_view user, const Dictionary& filter,
                              std::vector<std::string>& revoked) noexcept {
    return call(
        method::kRevokeTokens, Secrecy::Public,
        [&](sd_bus_message* reply) { return read_strings(reply, revoked); }, user, filter);
}

Outcome Client::revoke_token(std::string_view user, std::string_view token_id) noexcept {
    return call(method::kRevokeToken, Secrecy::Public, read_nothing, user, token_id);
}

Outcome Client::revoke_all_tokens(std::string_view user, std::uint64_t& revoked) noexcept {
    return call(
        method::kRevokeAllTokens, Secrecy::Public,
        [&](sd_bus_message* reply) { return sd_bus_message_read(reply, "t", &revoked); }, user);
}

Outcome Client::rename_token(std::string_view user, std::string_view token_id,
                             std::string_view name) noexcept {
    return call(method::kRenameToken, Secrecy::Public, read_nothing, user, token_id, name);
}

Outcome Client::lookup_tokens(const std::vector<std::string>& token_ids,
                              std::vector<TokenLookup>& out) noexcept {
    try {
        std::vector<Dictionary> answers;
        Outcome outcome = call(
            method::kLookupTokens, Secrecy::Public,
            [&](sd_bus_message* reply) { return read_dictionaries(reply, answers, kReplyLimits); },
            token_ids);
        for (const auto& answer : answers) {
            bool wrong_type = false;
            const auto text = [&](const char* key) {
                return value_of<std::string>(answer, key, wrong_type).value_or("");
            };
            out.push_back({text(key::kId), text(key::kState), text(key::kUser), text(key::kName)});
        }
        return outcome;
    } catch (...) {
        return out_of_memory();
    }
}

Outcome Client::revoke_leaked_tokens(const std::vector<SensitiveString>& tokens,
                                     std::vector<std::string>& revoked) noexcept {
    return call(
        method::kRevokeLeakedTokens, Secrecy::Sensitive,
        [&](sd_bus_message* reply) { return read_strings(reply, revoked); }, tokens);
}

Outcome Client::import_tokens(std::string_view user, const std::vector<Dictionary>& tokens,
                              std::vector<ImportResult>& out) noexcept {
    try {
        std::vector<Dictionary> answers;
        Outcome outcome = call(
            method::kImportTokens, Secrecy::Public,
            [&](sd_bus_message* reply) { return read_dictionaries(reply, answers, kReplyLimits); },
            user, tokens);
        for (const auto& answer : answers) {
            bool wrong_type = false;
            const auto text = [&](const char* key) {
                return value_of<std::string>(answer, key, wrong_type).value_or("");
            };
            out.push_back(
                {text(key::kOriginId), text(key::kResult), text(key::kId), text(key::kName)});
        }
        return outcome;
    } catch (...) {
        return out_of_memory();
    }
}

// An older daemon has no FleetState: then the dictionary stays empty.
Outcome Client::read_fleet_state(Dictionary& out) {
    BusError error;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_get_property(bus_.get(), kBusName, kObjectPath, kInterface, "FleetState",
                                      error.get(), &raw, "a{sv}");
    const MessagePtr reply(raw);
    if (r < 0) {
        return sd_bus_error_has_name(error.get(), SD_BUS_ERROR_UNKNOWN_PROPERTY) != 0
                   ? ok()
                   : outcome_of(*error, r);
    }
    const int read = read_dictionary(reply.get(), out, kReplyLimits);
    return read < 0 ? outcome_of(*error, read) : ok();
}

Outcome Client::status(DaemonStatus& out) noexcept {
    try {
        if (!bus_) {
            return no_bus(connect_error_);
        }
        BusError error;
        char* version = nullptr;
        int r = sd_bus_get_property_string(bus_.get(), kBusName, kObjectPath, kInterface, "Version",
                                           error.get(), &version);
        if (r < 0) {
            return outcome_of(*error, r);
        }
        out.version = version;
        free(version); // NOLINT(cppcoreguidelines-no-malloc): sd-bus allocated it
        r = sd_bus_get_property_trivial(bus_.get(), kBusName, kObjectPath, kInterface,
                                        "MaxLifetime", error.get(), 'x', &out.max_lifetime);
        if (r < 0) {
            return outcome_of(*error, r);
        }
        // Only root and the admin group may read the total; others get no count.
        error.clear();
        r = sd_bus_get_property_trivial(bus_.get(), kBusName, kObjectPath, kInterface, "TokenCount",
                                        error.get(), 't', &out.token_count);
        out.token_count_known = r >= 0;
        if (r < 0 && outcome_of(*error, r).refused_with(Error::AccessDenied)) {
            r = 0;
        }
        if (r < 0) {
            return outcome_of(*error, r);
        }
        return read_fleet_state(out.fleet);
    } catch (...) {
        return out_of_memory();
    }
}

} // namespace apitoken::ipc
