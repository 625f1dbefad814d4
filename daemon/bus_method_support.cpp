#include "daemon/bus_method_support.hpp"

#include "daemon/caller_credentials.hpp"
#include "daemon/token_policy.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/message_codec.hpp"
#include "store/secret_buffer.hpp"
#include "store/token_format.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

namespace apitoken::daemon::bus {
namespace {

void run_management(BusObject& self, sd_bus_message* call, const Identity& who,
                    const ManagementBody& body) {
    if (const auto* failure = std::get_if<Failure>(&who)) {
        self.log().record(AuditEvent::AccessDenied,
                          {.result = "refused", .reason = failure->message});
        return reply_failure(call, *failure);
    }
    ipc::BusError error;
    const int done =
        guarded(error.get(), self.log(), [&] { return body(call, std::get<Caller>(who)); });
    if (error.is_set()) {
        sd_bus_reply_method_error(call, error.get());
    } else if (done < 0) {
        sd_bus_reply_method_errno(call, done, nullptr);
    }
}

std::string hex_or_empty(const std::optional<store::TokenId>& id) {
    return id ? id->hex() : std::string();
}

} // namespace

BusObject& object_of(void* userdata) {
    return *static_cast<BusObject*>(userdata);
}

int set_error(sd_bus_error* error, const Failure& failure) {
    return sd_bus_error_set(error, ipc::error_name(failure.code), failure.message.c_str());
}

void reply_failure(sd_bus_message* m, const Failure& failure) {
    ipc::BusError error;
    set_error(error.get(), failure);
    sd_bus_reply_method_error(m, error.get());
}

void check_read(int r) {
    if (r == -E2BIG) {
        throw ApiError(ipc::Error::InvalidArgument,
                       "the arguments are too large (at most 1 MiB of text and 65,536 items)");
    }
    if (r == -EBADMSG) {
        throw ApiError(ipc::Error::InvalidArgument,
                       "an a{sv} value has a type this method does not take");
    }
    if (r < 0) {
        throw ApiError(ipc::Error::InvalidArgument, "malformed arguments");
    }
}

std::vector<std::string> read_strings(sd_bus_message* m) {
    std::vector<std::string> out;
    check_read(ipc::read_strings(m, out));
    return out;
}

void read_bounded_strings(sd_bus_message* m, std::size_t max_items, std::size_t max_bytes,
                          const std::function<void(const char*, std::size_t)>& take) {
    check_read(sd_bus_message_enter_container(m, 'a', "s"));
    std::size_t count = 0;
    for (;;) {
        const char* text = nullptr;
        const int r = sd_bus_message_read_basic(m, 's', &text);
        check_read(r);
        if (r == 0) {
            break;
        }
        const std::size_t length = strnlen(text, max_bytes + 1);
        if (++count > max_items || length > max_bytes) {
            throw ApiError(ipc::Error::InvalidArgument,
                           "at most " + std::to_string(max_items) + " items of at most " +
                               std::to_string(max_bytes) + " bytes per call");
        }
        take(text, length);
    }
    check_read(sd_bus_message_exit_container(m));
}

store::SecretBuffer secret_from(const char* text) {
    const std::size_t length = strnlen(text, store::kTokenLength + 1);
    return length > store::kTokenLength ? store::SecretBuffer()
                                        : store::SecretBuffer(std::string_view(text, length));
}

std::size_t text_bytes(std::initializer_list<const char*> texts) {
    std::size_t total = 0;
    for (const char* text : texts) {
        total += text != nullptr ? std::strlen(text) : 0;
    }
    return total;
}

std::size_t text_bytes(const std::vector<std::string>& texts) {
    std::size_t total = 0;
    for (const auto& text : texts) {
        total += text.size();
    }
    return total;
}

int after_caller_is_known(BusObject& self, sd_bus_message* m, std::size_t bytes,
                          ManagementBody body) {
    CallerQueries::Lookup caller(self.callers(), m, bytes);
    caller.identify([&self, held = ipc::share(m), body = std::move(body)](const Identity& who) {
        run_management(self, held.get(), who, body);
    });
    return 1;
}

ipc::MessagePtr new_reply(sd_bus_message* call, int& r) {
    sd_bus_message* raw = nullptr;
    r = sd_bus_message_new_method_return(call, &raw);
    return ipc::MessagePtr(r < 0 ? nullptr : raw);
}

int send_or_fail(sd_bus_message* call, const ipc::MessagePtr& reply, int r) {
    if (r >= 0) {
        r = sd_bus_send(nullptr, reply.get(), nullptr);
    }
    if (r < 0) {
        sd_bus_reply_method_errno(call, r, nullptr);
    }
    return 1;
}

ipc::TokenInfo info_of(const store::TokenRecord& record) {
    return {.id = record.id.hex(),
            .name = record.name,
            .created = unix_seconds(record.created),
            .expires = unix_seconds(record.expires),
            .last_used = unix_seconds(record.last_used),
            .use_count = record.use_count,
            .last_service = record.last_service,
            .last_rhost = record.last_rhost,
            .services = record.services};
}

ipc::TokenInfo full_info_of(const store::TokenRecord& record, bool orphaned, bool expiring_soon) {
    ipc::TokenInfo info = info_of(record);
    info.user = record.user;
    info.uid = record.uid;
    info.orphaned = orphaned;
    info.description = record.description;
    info.sources = record.sources;
    info.max_uses = record.max_uses;
    info.hosts = record.hosts;
    for (const auto& source : record.recent_sources) {
        info.recent_sources.push_back({.rhost = source.rhost,
                                       .service = source.service,
                                       .first_used = unix_seconds(source.first_used),
                                       .last_used = unix_seconds(source.last_used),
                                       .count = source.count});
    }
    info.origin = record.origin;
    info.origin_id = record.origin_id;
    info.rotated_from = hex_or_empty(record.rotated_from);
    info.rotated_to = hex_or_empty(record.rotated_to);
    info.grace_until = unix_seconds(record.grace_until);
    info.created_by = record.created_by;
    info.expiring_soon = expiring_soon;
    return info;
}

int append_token_text(sd_bus_message* reply, const store::IssuedToken& issued) {
    sd_bus_message_sensitive(reply);
    // sd-bus wants a C string; make one in wiped memory rather than a std::string.
    store::SecretBuffer token(issued.text.size() + 1);
    std::copy(issued.text.view().begin(), issued.text.view().end(), token.data());
    token.data()[issued.text.size()] = '\0';
    return sd_bus_message_append_basic(reply, 's', token.data());
}

std::optional<std::string> text_item(const ipc::Dictionary& items, const char* key) {
    return item<std::string>(items, key, "a string");
}

std::optional<std::vector<std::string>> list_item(const ipc::Dictionary& items, const char* key) {
    return item<std::vector<std::string>>(items, key, "an array of strings");
}

std::optional<std::int64_t> seconds_item(const ipc::Dictionary& items, const char* key) {
    const auto value = item<std::int64_t>(items, key, "an int64");
    if (value && (*value < 0 || *value > kLatestExpiry)) {
        throw ApiError(ipc::Error::InvalidArgument,
                       std::string("\"") + key + "\" is out of range (0 to the year 9999)");
    }
    return value;
}

bool flag_item(const ipc::Dictionary& items, const char* key) {
    return item<bool>(items, key, "a boolean").value_or(false);
}

} // namespace apitoken::daemon::bus
