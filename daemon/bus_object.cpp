#include "daemon/bus_object.hpp"

#include "daemon/caller_credentials.hpp"
#include "ipc/bus_api.hpp"
#include "store/store_error.hpp"
#include "store/token_format.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <vector>

namespace apitoken::daemon {
namespace {

#ifndef APITOKEN_VERSION
#define APITOKEN_VERSION "unknown"
#endif

// A call answered later (after hashing) keeps its message alive here.
using HeldMessage = std::shared_ptr<sd_bus_message>;

HeldMessage hold(sd_bus_message* m) {
    return {sd_bus_message_ref(m), [](sd_bus_message* held) { sd_bus_message_unref(held); }};
}

BusObject& object_of(void* userdata) {
    return *static_cast<BusObject*>(userdata);
}

// The one place where the daemon's refusals become D-Bus errors.
int set_error(sd_bus_error* error, const Failure& failure) {
    return sd_bus_error_set(error, ipc::error_name(failure.code), failure.message.c_str());
}

void reply_failure(sd_bus_message* m, const Failure& failure) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    set_error(&error, failure);
    sd_bus_reply_method_error(m, &error);
    sd_bus_error_free(&error);
}

// Runs a handler body, mapping whatever it throws to a D-Bus error.
template <typename Body>
int guarded(sd_bus_error* error, const AuditLog& log, Body&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return set_error(error, failure_of_current_exception(log));
    }
}

// The bus did not say who sent a call. Fail closed; but when the answer
// only came too late (the daemon is that far behind: it is overloaded),
// the caller is told so rather than that it may not ask.
Failure unidentified(int r) {
    if (r == -ETIMEDOUT) {
        return {ipc::Error::Busy, "apitokend is busy; try again"};
    }
    return {ipc::Error::AccessDenied,
            "cannot identify the caller: " + std::generic_category().message(-r)};
}

Caller caller_of(sd_bus_message* m) {
    Caller caller;
    const int r = query_caller(m, caller);
    if (r < 0) {
        throw ApiError(unidentified(r).code, unidentified(r).message);
    }
    return caller;
}

// The token is copied into locked, wiped memory at once; anything longer
// than a token cannot be one and is not copied at all (it fails as malformed).
store::SecretBuffer token_from(const char* text) {
    const std::size_t length = strnlen(text, store::kTokenLength + 1);
    return length > store::kTokenLength ? store::SecretBuffer()
                                        : store::SecretBuffer(std::string_view(text, length));
}

std::vector<std::string> read_strings(sd_bus_message* m) {
    char** raw = nullptr;
    const int r = sd_bus_message_read_strv(m, &raw);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), "reading a string array");
    }
    std::vector<std::string> out;
    for (char** s = raw; s != nullptr && *s != nullptr; ++s) {
        out.emplace_back(*s);
        free(*s); // NOLINT(cppcoreguidelines-no-malloc): sd-bus allocated it
    }
    free(static_cast<void*>(raw)); // NOLINT(cppcoreguidelines-no-malloc)
    return out;
}

void check_read(int r) {
    if (r < 0) {
        throw ApiError(ipc::Error::InvalidArgument, "malformed arguments");
    }
}

// Each call waits for the bus to say who sent it, holding its message. One
// connection may have thousands of calls in flight (the bus caps it, but
// only by configuration), so beyond these many waiting calls, from one
// connection or in all, a new one is refused at once: the daemon's memory
// stays bounded by these counts, not by what callers send, and a flood from
// one connection leaves the others served. Far above what one client (a
// PAM module makes one call per connection) or the hashing queue needs.
constexpr std::size_t kMaxCallsAwaitingCaller = 1024;
constexpr std::size_t kMaxCallsAwaitingCallerPerConnection = 64;

void refuse_when_too_many_await_their_caller(BusObject& self, sd_bus_message* m) {
    if (self.callers().in_flight() >= kMaxCallsAwaitingCaller ||
        self.callers().in_flight_from(m) >= kMaxCallsAwaitingCallerPerConnection) {
        self.log().record(AuditEvent::AuthFailed,
                          {.result = "busy", .reason = "too many calls waiting for the bus"});
        throw ApiError(ipc::Error::Busy, "apitokend is busy; try again");
    }
}

// A management call's body, run once the bus has named the caller: it
// returns what an sd-bus handler returns (it has replied, or will), or
// throws a refusal. Runs on the loop thread.
using ManagementBody = std::function<int(sd_bus_message* call, const Caller& caller)>;

// Runs `body` when the caller is known, without blocking the loop on the
// round trip to the bus daemon; maps what it throws as guarded() does, and
// makes sure the call is answered.
int after_caller_is_known(BusObject& self, sd_bus_message* m, ManagementBody body) {
    refuse_when_too_many_await_their_caller(self, m);
    const int r = self.callers().ask(
        m, [&self, held = hold(m), body = std::move(body)](int failed, const Caller& caller) {
            if (failed < 0) {
                return reply_failure(held.get(), unidentified(failed));
            }
            sd_bus_error error = SD_BUS_ERROR_NULL;
            const int done = guarded(&error, self.log(), [&] { return body(held.get(), caller); });
            if (sd_bus_error_is_set(&error) != 0) {
                sd_bus_reply_method_error(held.get(), &error);
            } else if (done < 0) {
                sd_bus_reply_method_errno(held.get(), done, nullptr);
            }
            sd_bus_error_free(&error);
        });
    if (r < 0) {
        const Failure failure = unidentified(r);
        throw ApiError(failure.code, failure.message);
    }
    return 1;
}

// The caller's credentials come from the bus daemon after a round trip;
// meanwhile the service starts on what does not depend on them.
int on_authenticate(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        refuse_when_too_many_await_their_caller(self, m);
        const char* user = nullptr;
        const char* token = nullptr;
        const char* service = nullptr;
        const char* rhost = nullptr;
        check_read(sd_bus_message_read(m, "ssss", &user, &token, &service, &rhost));
        TokenService& tokens = self.service();
        auto pending = tokens.begin_authentication(
            AuthRequest{user, token_from(token), service, rhost},
            [held = hold(m)](const std::optional<Failure>& failure, const std::string& id) {
                if (failure) {
                    reply_failure(held.get(), *failure);
                } else {
                    sd_bus_reply_method_return(held.get(), "s", id.c_str());
                }
            });
        const int r = self.callers().ask(m, [&tokens, pending](int failed, const Caller& caller) {
            if (failed < 0) {
                tokens.caller_unknown(pending, unidentified(failed));
            } else {
                tokens.caller_known(pending, caller);
            }
        });
        if (r < 0) {
            tokens.caller_unknown(pending, unidentified(r));
        }
        return 1;
    });
}

// 0 for "none" (never expires, never used), as the bus API says.
std::int64_t unix_seconds(const std::optional<store::TimePoint>& t) {
    return t ? t->time_since_epoch().count() : 0;
}

using MessagePtr = std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)>;

// An empty reply to `call`; null, with `r` < 0, when it cannot be made.
MessagePtr new_reply(sd_bus_message* call, int& r) {
    sd_bus_message* raw = nullptr;
    r = sd_bus_message_new_method_return(call, &raw);
    return {r < 0 ? nullptr : raw, sd_bus_message_unref};
}

int send_created(sd_bus_message* call, const store::IssuedToken& issued) {
    int r = 0;
    const MessagePtr reply = new_reply(call, r);
    if (r < 0) {
        return r;
    }
    // The reply carries the token: sd-bus wipes a sensitive message when freed.
    sd_bus_message_sensitive(reply.get());
    // sd-bus wants a C string; make one in wiped memory rather than a std::string.
    store::SecretBuffer token(issued.text.size() + 1);
    std::copy(issued.text.view().begin(), issued.text.view().end(), token.data());
    token.data()[issued.text.size()] = '\0';
    const std::string id = issued.record.id.hex();
    r = sd_bus_message_append(reply.get(), "ssxx", id.c_str(), token.data(),
                              unix_seconds(issued.record.created),
                              unix_seconds(issued.record.expires));
    return r < 0 ? r : sd_bus_send(nullptr, reply.get(), nullptr);
}

// A caller must always get an answer, if only an error.
void reply_created(sd_bus_message* call, const store::IssuedToken& issued) {
    const int r = send_created(call, issued);
    if (r < 0) {
        sd_bus_reply_method_errno(call, r, nullptr);
    }
}

int on_create_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* name = nullptr;
        std::int64_t expires = 0;
        check_read(sd_bus_message_read(m, "ssx", &user, &name, &expires));
        auto request =
            std::make_shared<CreateRequest>(CreateRequest{user, name, expires, read_strings(m)});
        return after_caller_is_known(
            self, m, [&self, request](sd_bus_message* call, const Caller& caller) {
                self.service().create_token(
                    caller, *request,
                    [held = hold(call)](const std::optional<Failure>& failure,
                                        const store::IssuedToken* issued) {
                        if (failure || issued == nullptr) {
                            reply_failure(held.get(), failure.value_or(Failure{}));
                        } else {
                            reply_created(held.get(), *issued);
                        }
                    });
                return 1;
            });
    });
}

int append_token_info(sd_bus_message* reply, const store::TokenRecord& record) {
    const std::string id = record.id.hex();
    int r = sd_bus_message_open_container(reply, 'r', "ssxxxtssas");
    if (r >= 0) {
        r = sd_bus_message_append(reply, "ssxxxtss", id.c_str(), record.name.c_str(),
                                  unix_seconds(record.created), unix_seconds(record.expires),
                                  unix_seconds(record.last_used), std::uint64_t{record.use_count},
                                  record.last_service.c_str(), record.last_rhost.c_str());
    }
    if (r >= 0) {
        r = sd_bus_message_open_container(reply, 'a', "s");
    }
    for (const auto& service : record.services) {
        if (r >= 0) {
            r = sd_bus_message_append_basic(reply, 's', service.c_str());
        }
    }
    if (r >= 0) {
        r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int send_token_list(sd_bus_message* call, const std::vector<store::TokenRecord>& records) {
    int r = 0;
    const MessagePtr reply = new_reply(call, r);
    if (r < 0) {
        return r;
    }
    r = sd_bus_message_open_container(reply.get(), 'a', ipc::signature::kTokenInfo);
    for (const auto& record : records) {
        if (r >= 0) {
            r = append_token_info(reply.get(), record);
        }
    }
    if (r >= 0) {
        r = sd_bus_message_close_container(reply.get());
    }
    return r < 0 ? r : sd_bus_send(nullptr, reply.get(), nullptr);
}

int on_list_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        check_read(sd_bus_message_read(m, "s", &user));
        return after_caller_is_known(
            self, m, [&self, user = std::string(user)](sd_bus_message* call, const Caller& caller) {
                return send_token_list(call, self.service().list_tokens(caller, user));
            });
    });
}

int on_revoke_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* id = nullptr;
        check_read(sd_bus_message_read(m, "ss", &user, &id));
        return after_caller_is_known(self, m,
                                     [&self, user = std::string(user), id = std::string(id)](
                                         sd_bus_message* call, const Caller& caller) {
                                         self.service().revoke_token(caller, user, id);
                                         return sd_bus_reply_method_return(call, "");
                                     });
    });
}

int on_revoke_all_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        check_read(sd_bus_message_read(m, "s", &user));
        return after_caller_is_known(
            self, m, [&self, user = std::string(user)](sd_bus_message* call, const Caller& caller) {
                const std::uint64_t revoked = self.service().revoke_all_tokens(caller, user);
                return sd_bus_reply_method_return(call, "t", revoked);
            });
    });
}

int on_rename_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* id = nullptr;
        const char* name = nullptr;
        check_read(sd_bus_message_read(m, "sss", &user, &id, &name));
        return after_caller_is_known(
            self, m,
            [&self, user = std::string(user), id = std::string(id),
             name = std::string(name)](sd_bus_message* call, const Caller& caller) {
                self.service().rename_token(caller, user, id, name);
                return sd_bus_reply_method_return(call, "");
            });
    });
}

int get_version(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
                const char* /*property*/, sd_bus_message* reply, void* /*userdata*/,
                sd_bus_error* /*error*/) {
    return sd_bus_message_append(reply, "s", APITOKEN_VERSION);
}

int get_token_count(sd_bus* bus, const char* /*path*/, const char* /*interface*/,
                    const char* /*property*/, sd_bus_message* reply, void* userdata,
                    sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const Caller caller = caller_of(sd_bus_get_current_message(bus));
        return sd_bus_message_append(reply, "t", self.service().token_count(caller));
    });
}

int get_max_lifetime(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
                     const char* /*property*/, sd_bus_message* reply, void* userdata,
                     sd_bus_error* /*error*/) {
    return sd_bus_message_append(reply, "x", object_of(userdata).service().max_lifetime());
}

// Every method does its own authorization (the table of design.md), so all
// are UNPRIVILEGED in sd-bus's sense; those that carry a token are SENSITIVE,
// so sd-bus wipes their messages when it frees them.
constexpr std::uint64_t kOpen = SD_BUS_VTABLE_UNPRIVILEGED;
constexpr std::uint64_t kSecret = SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE;

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Authenticate",
                            SD_BUS_ARGS("s", user, "s", token, "s", service, "s", rhost),
                            SD_BUS_RESULT("s", token_id), on_authenticate, kSecret),
    SD_BUS_METHOD_WITH_ARGS("CreateToken",
                            SD_BUS_ARGS("s", user, "s", name, "x", expires, "as", services),
                            SD_BUS_RESULT("s", token_id, "s", token, "x", created, "x", expires),
                            on_create_token, kSecret),
    SD_BUS_METHOD_WITH_ARGS("ListTokens", SD_BUS_ARGS("s", user),
                            SD_BUS_RESULT("a(ssxxxtssas)", tokens), on_list_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RevokeToken", SD_BUS_ARGS("s", user, "s", token_id), SD_BUS_NO_RESULT,
                            on_revoke_token, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RevokeAllTokens", SD_BUS_ARGS("s", user), SD_BUS_RESULT("t", revoked),
                            on_revoke_all_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RenameToken", SD_BUS_ARGS("s", user, "s", token_id, "s", name),
                            SD_BUS_NO_RESULT, on_rename_token, kOpen),
    SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TokenCount", "t", get_token_count, 0, 0),
    SD_BUS_PROPERTY("MaxLifetime", "x", get_max_lifetime, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

} // namespace

BusObject::BusObject(sd_bus* bus, TokenService& service, const AuditLog& log)
    : service_(service), log_(log) {
    const int r =
        sd_bus_add_object_vtable(bus, &slot_, ipc::kObjectPath, ipc::kInterface, kVtable, this);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), "cannot register /io/apitoken1");
    }
}

BusObject::~BusObject() {
    sd_bus_slot_unref(slot_);
}

} // namespace apitoken::daemon
