#include "daemon/bus_policy_methods.hpp"

#include "daemon/bus_method_support.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/message_codec.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::daemon::bus {
namespace {

using ipc::MessagePtr;
namespace key = ipc::key;

// expires in a{sv}: 0 is "never" (absent is the default lifetime, for the
// caller to decide); negative values are no time.
std::optional<std::int64_t> expiry_item(const ipc::Dictionary& items) {
    const auto value = seconds_item(items, key::kExpires);
    if (value && *value == 0) {
        return ipc::kExpiresNever;
    }
    return value;
}

// Reads "s user" (and more strings) and then the a{sv}; returns the bytes
// the call holds while it waits for its caller.
std::size_t read_call(sd_bus_message* m, std::initializer_list<std::string*> strings,
                      ipc::Dictionary& items) {
    std::size_t bytes = 0;
    for (std::string* out : strings) {
        const char* text = nullptr;
        check_read(sd_bus_message_read_basic(m, 's', &text));
        *out = text;
        bytes += out->size();
    }
    std::size_t item_bytes = 0;
    check_read(ipc::read_dictionary(m, items, ipc::kRequestLimits, &item_bytes));
    return bytes + item_bytes;
}

CreateRequest create_request_of(std::string user, std::string name, const ipc::Dictionary& items) {
    CreateRequest request{.user = std::move(user), .name = std::move(name)};
    request.expires = expiry_item(items).value_or(ipc::kExpiresDefault);
    request.services = list_item(items, key::kServices).value_or(std::vector<std::string>{});
    request.sources = list_item(items, key::kSources).value_or(std::vector<std::string>{});
    request.hosts = list_item(items, key::kHosts).value_or(std::vector<std::string>{});
    request.description = text_item(items, key::kDescription).value_or("");
    request.max_uses = item<std::uint64_t>(items, key::kMaxUses, "a uint64").value_or(0);
    return request;
}

TokenChanges changes_of(const ipc::Dictionary& items) {
    return {.name = text_item(items, key::kName),
            .description = text_item(items, key::kDescription),
            .services = list_item(items, key::kServices),
            .sources = list_item(items, key::kSources),
            .hosts = list_item(items, key::kHosts),
            .expires = expiry_item(items)};
}

TokenFilter filter_of(const ipc::Dictionary& items) {
    return {.all_users = flag_item(items, key::kAllUsers),
            .ids = list_item(items, key::kIds),
            .expiring_within = seconds_item(items, key::kExpiringWithin),
            .unused_for = seconds_item(items, key::kUnusedFor),
            .expired = flag_item(items, key::kExpired)};
}

// (s id, s token, a{sv} info): CreateTokenEx's and RotateToken's answer.
void reply_issued(BusObject& self, sd_bus_message* call, const std::optional<Failure>& failure,
                  const store::IssuedToken* issued) {
    if (failure || issued == nullptr) {
        return reply_failure(call, failure.value_or(Failure{}));
    }
    int r = 0;
    const MessagePtr reply = new_reply(call, r);
    const std::string id = issued->record.id.hex();
    if (r >= 0) {
        r = sd_bus_message_append_basic(reply.get(), 's', id.c_str());
    }
    if (r >= 0) {
        r = append_token_text(reply.get(), *issued);
    }
    if (r >= 0) {
        const bool soon = self.service().management().expiring_soon(issued->record);
        r = ipc::append_dictionary(reply.get(),
                                   ipc::dictionary_of(full_info_of(issued->record, false, soon)));
    }
    send_or_fail(call, reply, r);
}

TokenManager::CreateReply issued_reply(BusObject& self, sd_bus_message* call) {
    return [&self, held = ipc::share(call)](const std::optional<Failure>& failure,
                                            const store::IssuedToken* issued) {
        reply_issued(self, held.get(), failure, issued);
    };
}

} // namespace

int on_list_tokens_ex(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        std::string user;
        ipc::Dictionary items;
        const std::size_t bytes = read_call(m, {&user}, items);
        return after_caller_is_known(
            self, m, bytes,
            [&self, user, filter = filter_of(items)](sd_bus_message* call, const Caller& caller) {
                TokenManager& manager = self.service().management();
                std::vector<ipc::Dictionary> tokens;
                for (const auto& token : manager.list_tokens(caller, user, filter)) {
                    ipc::TokenInfo info = full_info_of(token.record, token.orphaned,
                                                       manager.expiring_soon(token.record));
                    info.last_host = token.last_host;
                    tokens.push_back(ipc::dictionary_of(info));
                }
                int r = 0;
                const MessagePtr reply = new_reply(call, r);
                if (r >= 0) {
                    r = ipc::append_dictionaries(reply.get(), tokens);
                }
                return send_or_fail(call, reply, r);
            });
    });
}

int on_create_token_ex(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        std::string user;
        std::string name;
        ipc::Dictionary items;
        const std::size_t bytes = read_call(m, {&user, &name}, items);
        auto request = std::make_shared<const CreateRequest>(create_request_of(user, name, items));
        return after_caller_is_known(self, m, bytes,
                                     [&self, request](sd_bus_message* call, const Caller& caller) {
                                         self.service().management().create_token(
                                             caller, *request, issued_reply(self, call));
                                         return 1;
                                     });
    });
}

int on_update_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        std::string user;
        std::string id;
        ipc::Dictionary items;
        const std::size_t bytes = read_call(m, {&user, &id}, items);
        return after_caller_is_known(self, m, bytes,
                                     [&self, user, id, changes = changes_of(items)](
                                         sd_bus_message* call, const Caller& caller) {
                                         static_cast<void>(self.service().management().update_token(
                                             caller, user, id, changes));
                                         return sd_bus_reply_method_return(call, "");
                                     });
    });
}

int on_rotate_token(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        RotateRequest request;
        ipc::Dictionary items;
        const std::size_t bytes = read_call(m, {&request.user, &request.id}, items);
        request.grace = seconds_item(items, key::kGrace).value_or(0);
        request.expires = expiry_item(items);
        return after_caller_is_known(
            self, m, bytes, [&self, request](sd_bus_message* call, const Caller& caller) {
                self.service().management().rotate_token(caller, request, issued_reply(self, call));
                return 1;
            });
    });
}

int on_revoke_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        std::string user;
        ipc::Dictionary items;
        const std::size_t bytes = read_call(m, {&user}, items);
        return after_caller_is_known(
            self, m, bytes,
            [&self, user, filter = filter_of(items),
             dry_run = flag_item(items, key::kDryRun)](sd_bus_message* call, const Caller& caller) {
                const std::vector<std::string> ids =
                    self.service().management().revoke_tokens(caller, user, filter, dry_run);
                int r = 0;
                const MessagePtr reply = new_reply(call, r);
                if (r >= 0) {
                    r = ipc::append_strings(reply.get(), ids);
                }
                return send_or_fail(call, reply, r);
            });
    });
}

} // namespace apitoken::daemon::bus
