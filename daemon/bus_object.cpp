#include "daemon/bus_object.hpp"

#include "daemon/bus_import_method.hpp"
#include "daemon/bus_leak_methods.hpp"
#include "daemon/bus_method_support.hpp"
#include "daemon/bus_policy_methods.hpp"
#include "daemon/caller_credentials.hpp"
#include "daemon/fleet_replica.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/message_codec.hpp"
#include "ipc/sd_handles.hpp"
#include "store/token_format.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

namespace apitoken::daemon {
namespace {

#ifndef APITOKEN_VERSION
#define APITOKEN_VERSION "unknown"
#endif

using ipc::MessagePtr;
using namespace bus;

// One call: the core joins the caller's identity (asked of the bus daemon)
// and the hash verdict, and answers through `reply`.
void start_authentication(BusObject& self, sd_bus_message* m, std::size_t bytes,
                          AuthRequest request, Authenticator::Reply reply) {
    CallerQueries::Lookup caller(self.callers(), m, bytes);
    self.service().authentication().authenticate(std::move(request), caller, std::move(reply));
}

int on_authenticate(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* token = nullptr;
        const char* service = nullptr;
        const char* rhost = nullptr;
        check_read(sd_bus_message_read(m, ipc::signature::kAuthenticateIn, &user, &token, &service,
                                       &rhost));
        AuthRequest request;
        request.user = user;
        request.token = secret_from(token);
        request.service = service;
        request.rhost = rhost;
        start_authentication(
            self, m, text_bytes({user, token, service, rhost}), std::move(request),
            [held = ipc::share(m)](const std::optional<Failure>& failure, const std::string& id) {
                if (failure) {
                    reply_failure(held.get(), *failure);
                } else {
                    sd_bus_reply_method_return(held.get(), ipc::signature::kAuthenticateOut,
                                               id.c_str());
                }
            });
        return 1;
    });
}

AuthRequest request_from_items(const char* user, const char* token, const ipc::Dictionary& items) {
    AuthRequest request;
    request.user = user;
    request.service = item<std::string>(items, ipc::key::kService, "a string").value_or("");
    request.rhost = item<std::string>(items, ipc::key::kRhost, "a string").value_or("");
    request.ruser = item<std::string>(items, ipc::key::kRuser, "a string").value_or("");
    if (const auto uid = item<std::uint32_t>(items, ipc::key::kRequesterUid, "a uint32")) {
        request.requester_uid = *uid;
    }
    request.token = secret_from(token); // last: nothing above may throw after the copy
    return request;
}

int on_authenticate_ex(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* token = nullptr;
        check_read(sd_bus_message_read(m, "ss", &user, &token));
        ipc::Dictionary items;
        std::size_t item_bytes = 0;
        check_read(ipc::read_dictionary(m, items, ipc::kRequestLimits, &item_bytes));
        start_authentication(
            self, m, text_bytes({user, token}) + item_bytes, request_from_items(user, token, items),
            [held = ipc::share(m)](const std::optional<Failure>& failure, const std::string& id) {
                if (failure) {
                    return reply_failure(held.get(), *failure);
                }
                int r = 0;
                const MessagePtr reply = new_reply(held.get(), r);
                if (r >= 0) {
                    r = sd_bus_message_append_basic(reply.get(), 's', id.c_str());
                }
                if (r >= 0) {
                    r = ipc::append_dictionary(reply.get(), {});
                }
                send_or_fail(held.get(), reply, r);
            });
        return 1;
    });
}

int send_created(sd_bus_message* call, const store::IssuedToken& issued) {
    int r = 0;
    const MessagePtr reply = new_reply(call, r);
    if (r < 0) {
        return r;
    }
    const std::string id = issued.record.id.hex();
    r = sd_bus_message_append_basic(reply.get(), 's', id.c_str());
    if (r >= 0) {
        r = append_token_text(reply.get(), issued); // sd-bus wipes the message when freed
    }
    if (r >= 0) {
        r = sd_bus_message_append(reply.get(), "xx", unix_seconds(issued.record.created),
                                  unix_seconds(issued.record.expires));
    }
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
            self, m, text_bytes({user, name}) + text_bytes(request->services),
            [&self, request](sd_bus_message* call, const Caller& caller) {
                self.service().management().create_token(
                    caller, *request,
                    [held = ipc::share(call)](const std::optional<Failure>& failure,
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

// ListTokens has no field to mark orphaned tokens (only root and admins get
// them, as before: ListTokensEx marks them).
int send_token_list(sd_bus_message* call, const std::vector<ListedToken>& listed) {
    std::vector<ipc::TokenInfo> tokens;
    tokens.reserve(listed.size());
    for (const auto& token : listed) {
        tokens.push_back(info_of(token.record));
    }
    int r = 0;
    const MessagePtr reply = new_reply(call, r);
    if (r >= 0) {
        r = ipc::append_token_list(reply.get(), tokens);
    }
    return r < 0 ? r : sd_bus_send(nullptr, reply.get(), nullptr);
}

int on_list_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        check_read(sd_bus_message_read(m, ipc::signature::kListTokensIn, &user));
        return after_caller_is_known(
            self, m, text_bytes({user}),
            [&self, user = std::string(user)](sd_bus_message* call, const Caller& caller) {
                return send_token_list(call, self.service().management().list_tokens(caller, user));
            });
    });
}

int on_revoke_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* id = nullptr;
        check_read(sd_bus_message_read(m, ipc::signature::kRevokeTokenIn, &user, &id));
        return after_caller_is_known(self, m, text_bytes({user, id}),
                                     [&self, user = std::string(user), id = std::string(id)](
                                         sd_bus_message* call, const Caller& caller) {
                                         self.service().management().revoke_token(caller, user, id);
                                         return sd_bus_reply_method_return(call, "");
                                     });
    });
}

int on_revoke_all_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        check_read(sd_bus_message_read(m, ipc::signature::kRevokeAllTokensIn, &user));
        return after_caller_is_known(
            self, m, text_bytes({user}),
            [&self, user = std::string(user)](sd_bus_message* call, const Caller& caller) {
                const std::uint64_t revoked =
                    self.service().management().revoke_all_tokens(caller, user);
                return sd_bus_reply_method_return(call, ipc::signature::kRevokeAllTokensOut,
                                                  revoked);
            });
    });
}

int on_rename_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        const char* user = nullptr;
        const char* id = nullptr;
        const char* name = nullptr;
        check_read(sd_bus_message_read(m, ipc::signature::kRenameTokenIn, &user, &id, &name));
        return after_caller_is_known(
            self, m, text_bytes({user, id, name}),
            [&self, user = std::string(user), id = std::string(id),
             name = std::string(name)](sd_bus_message* call, const Caller& caller) {
                self.service().management().rename_token(caller, user, id, name);
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
        Caller caller;
        const int r = self.callers().ask_now(sd_bus_get_current_message(bus), caller);
        if (r < 0) {
            throw ApiError(unidentified(r));
        }
        return sd_bus_message_append(reply, "t", self.service().management().token_count(caller));
    });
}

int get_max_lifetime(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
                     const char* /*property*/, sd_bus_message* reply, void* userdata,
                     sd_bus_error* /*error*/) {
    return sd_bus_message_append(reply, "x",
                                 object_of(userdata).service().management().max_lifetime());
}

// Whether the caller may see and manage every user's tokens (root or the
// admin group): what a front end (the Cockpit page) offers, asked without a
// refused call in the audit log.
int get_caller_is_admin(sd_bus* bus, const char* /*path*/, const char* /*interface*/,
                        const char* /*property*/, sd_bus_message* reply, void* userdata,
                        sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        Caller caller;
        const int r = self.callers().ask_now(sd_bus_get_current_message(bus), caller);
        if (r < 0) {
            throw ApiError(unidentified(r));
        }
        const int is_admin = self.service().management().is_admin(caller) ? 1 : 0;
        return sd_bus_message_append(reply, "b", is_admin);
    });
}

// Fleet mode's state for `apitokenctl status`; single-host mode says only
// that (mode "single-host").
int get_fleet_state(sd_bus* bus, const char* /*path*/, const char* /*interface*/,
                    const char* /*property*/, sd_bus_message* reply, void* userdata,
                    sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        if (self.fleet() == nullptr) {
            return ipc::append_dictionary(reply, {{"mode", std::string("single-host")}});
        }
        // What the database said (host names, roles) is for root and admins.
        ipc::Dictionary state = self.fleet()->state();
        Caller caller;
        if (self.callers().ask_now(sd_bus_get_current_message(bus), caller) < 0 ||
            !self.service().management().is_admin(caller)) {
            state.erase("problem");
        }
        return ipc::append_dictionary(reply, state);
    });
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
    SD_BUS_METHOD_WITH_ARGS("AuthenticateEx", SD_BUS_ARGS("s", user, "s", token, "a{sv}", items),
                            SD_BUS_RESULT("s", token_id, "a{sv}", info), on_authenticate_ex,
                            kSecret),
    SD_BUS_METHOD_WITH_ARGS("CreateToken",
                            SD_BUS_ARGS("s", user, "s", name, "x", expires, "as", services),
                            SD_BUS_RESULT("s", token_id, "s", token, "x", created, "x", expires),
                            on_create_token, kSecret),
    SD_BUS_METHOD_WITH_ARGS("ListTokens", SD_BUS_ARGS("s", user),
                            SD_BUS_RESULT("a(ssxxxtssas)", tokens), on_list_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("ListTokensEx", SD_BUS_ARGS("s", user, "a{sv}", filter),
                            SD_BUS_RESULT("aa{sv}", tokens), on_list_tokens_ex, kOpen),
    SD_BUS_METHOD_WITH_ARGS("CreateTokenEx", SD_BUS_ARGS("s", user, "s", name, "a{sv}", options),
                            SD_BUS_RESULT("s", token_id, "s", token, "a{sv}", info),
                            on_create_token_ex, kSecret),
    SD_BUS_METHOD_WITH_ARGS("UpdateToken", SD_BUS_ARGS("s", user, "s", token_id, "a{sv}", changes),
                            SD_BUS_NO_RESULT, on_update_token, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RotateToken", SD_BUS_ARGS("s", user, "s", token_id, "a{sv}", options),
                            SD_BUS_RESULT("s", token_id, "s", token, "a{sv}", info),
                            on_rotate_token, kSecret),
    SD_BUS_METHOD_WITH_ARGS("RevokeTokens", SD_BUS_ARGS("s", user, "a{sv}", filter),
                            SD_BUS_RESULT("as", token_ids), on_revoke_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RevokeToken", SD_BUS_ARGS("s", user, "s", token_id), SD_BUS_NO_RESULT,
                            on_revoke_token, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RevokeAllTokens", SD_BUS_ARGS("s", user), SD_BUS_RESULT("t", revoked),
                            on_revoke_all_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RenameToken", SD_BUS_ARGS("s", user, "s", token_id, "s", name),
                            SD_BUS_NO_RESULT, on_rename_token, kOpen),
    SD_BUS_METHOD_WITH_ARGS("LookupTokens", SD_BUS_ARGS("as", token_ids),
                            SD_BUS_RESULT("aa{sv}", states), on_lookup_tokens, kOpen),
    SD_BUS_METHOD_WITH_ARGS("RevokeLeakedTokens", SD_BUS_ARGS("as", tokens),
                            SD_BUS_RESULT("as", token_ids), on_revoke_leaked_tokens, kSecret),
    SD_BUS_METHOD_WITH_ARGS("ImportTokens", SD_BUS_ARGS("s", user, "aa{sv}", tokens),
                            SD_BUS_RESULT("aa{sv}", results), on_import_tokens, kOpen),
    SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TokenCount", "t", get_token_count, 0, 0),
    SD_BUS_PROPERTY("MaxLifetime", "x", get_max_lifetime, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("FleetState", "a{sv}", get_fleet_state, 0, 0),
    SD_BUS_PROPERTY("CallerIsAdmin", "b", get_caller_is_admin, 0, 0),
    SD_BUS_VTABLE_END,
};

} // namespace

BusObject::BusObject(sd_bus* bus, TokenService& service, const AuditLog& log,
                     const FleetReplica* fleet)
    : service_(service), log_(log), fleet_(fleet) {
    sd_bus_slot* slot = nullptr;
    const int r =
        sd_bus_add_object_vtable(bus, &slot, ipc::kObjectPath, ipc::kInterface, kVtable, this);
    slot_.reset(slot);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), "cannot register /io/apitoken1");
    }
}

BusObject::~BusObject() = default;

ipc::SlotPtr BusObject::serve(sd_bus* connection) {
    sd_bus_slot* slot = nullptr;
    const int r = sd_bus_add_object_vtable(connection, &slot, ipc::kObjectPath, ipc::kInterface,
                                           kVtable, this);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), "cannot serve /io/apitoken1");
    }
    return ipc::SlotPtr(slot);
}

} // namespace apitoken::daemon
