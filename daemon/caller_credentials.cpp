#include "daemon/caller_credentials.hpp"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <new>
#include <string_view>

namespace apitoken::daemon {
namespace {

struct MessageUnref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};

// Unreferencing a pending call's slot cancels it: its callback never runs.
struct SlotUnref {
    void operator()(sd_bus_slot* s) const noexcept { sd_bus_slot_unref(s); }
};

int read_groups(sd_bus_message* reply, Caller& out) {
    int r = sd_bus_message_enter_container(reply, 'v', "au");
    if (r < 0) {
        return r;
    }
    const void* data = nullptr;
    std::size_t size = 0;
    r = sd_bus_message_read_array(reply, 'u', &data, &size);
    if (r < 0) {
        return r;
    }
    const auto* gids = static_cast<const std::uint32_t*>(data);
    out.groups.assign(gids, gids + size / sizeof(std::uint32_t));
    return sd_bus_message_exit_container(reply);
}

// Reads the a{sv} of GetConnectionCredentials, keeping what we use.
int read_credentials(sd_bus_message* reply, Caller& out) {
    bool have_uid = false;
    int r = sd_bus_message_enter_container(reply, 'a', "{sv}");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
        const char* key = nullptr;
        if ((r = sd_bus_message_read(reply, "s", &key)) < 0) {
            return r;
        }
        const std::string_view name(key);
        std::uint32_t value = 0;
        if (name == "UnixUserID") {
            r = sd_bus_message_read(reply, "v", "u", &value);
            out.uid = value;
            have_uid = r >= 0;
        } else if (name == "ProcessID") {
            r = sd_bus_message_read(reply, "v", "u", &value);
            out.pid = static_cast<pid_t>(value);
        } else if (name == "UnixGroupIDs") {
            r = read_groups(reply, out);
        } else {
            r = sd_bus_message_skip(reply, "v");
        }
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0) {
            return r;
        }
    }
    if (r < 0) {
        return r;
    }
    // Without a uid we cannot authorize anything.
    return have_uid ? sd_bus_message_exit_container(reply) : -EPERM;
}

constexpr const char* kDriver = "org.freedesktop.DBus";
constexpr const char* kDriverPath = "/org/freedesktop/DBus";
constexpr const char* kQuestion = "GetConnectionCredentials";

} // namespace

int query_caller(sd_bus_message* message, Caller& out) {
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) {
        return -EPERM;
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_call_method(sd_bus_message_get_bus(message), kDriver, kDriverPath, kDriver,
                                     kQuestion, &error, &raw, "s", sender);
    const std::unique_ptr<sd_bus_message, MessageUnref> reply(raw);
    sd_bus_error_free(&error);
    if (r < 0) {
        return r;
    }
    return read_credentials(reply.get(), out);
}

struct CallerQueries::Query {
    CallerQueries* owner = nullptr;
    std::uint64_t key = 0;
    std::string sender;
    Answer answer;
    std::unique_ptr<sd_bus_slot, SlotUnref> slot;
};

CallerQueries::CallerQueries() = default;
CallerQueries::~CallerQueries() = default;

int CallerQueries::ask(sd_bus_message* message, Answer answer) {
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) {
        return -EPERM;
    }
    auto query = std::make_unique<Query>();
    query->owner = this;
    query->key = next_key_++;
    query->sender = sender;
    query->answer = std::move(answer);
    sd_bus_slot* slot = nullptr;
    const int r =
        sd_bus_call_method_async(sd_bus_message_get_bus(message), &slot, kDriver, kDriverPath,
                                 kDriver, kQuestion, on_reply, query.get(), "s", sender);
    if (r < 0) {
        return r;
    }
    query->slot.reset(slot);
    const std::uint64_t key = query->key;
    ++per_sender_[query->sender];
    queries_.emplace(key, std::move(query));
    return 0;
}

std::size_t CallerQueries::in_flight_from(sd_bus_message* message) const {
    const char* sender = sd_bus_message_get_sender(message);
    const auto found = per_sender_.find(std::string_view(sender != nullptr ? sender : ""));
    return found == per_sender_.end() ? 0 : found->second;
}

int CallerQueries::on_reply(sd_bus_message* reply, void* userdata, sd_bus_error* /*error*/) {
    auto* query = static_cast<Query*>(userdata);
    CallerQueries& owner = *query->owner;
    const auto entry = owner.queries_.find(query->key);
    // Taken out before answering: sd-bus holds its own reference to the
    // slot while this callback runs, so releasing ours here is safe.
    const std::unique_ptr<Query> done = std::move(entry->second);
    owner.queries_.erase(entry);
    if (const auto sender = owner.per_sender_.find(done->sender);
        sender != owner.per_sender_.end() && --sender->second == 0) {
        owner.per_sender_.erase(sender);
    }
    Caller caller;
    int r = 0;
    if (sd_bus_message_is_method_error(reply, nullptr) != 0) {
        r = -std::abs(sd_bus_message_get_errno(reply));
        r = r == 0 ? -EPERM : r;
    } else {
        try {
            r = read_credentials(reply, caller);
        } catch (const std::bad_alloc&) {
            r = -ENOMEM;
        }
    }
    // Nothing may unwind into sd-bus. The answers catch their own failures;
    // should one still throw (out of memory while refusing), that call is
    // left to its caller's timeout.
    try {
        done->answer(r, caller);
    } catch (...) { // NOLINT(bugprone-empty-catch)
    }
    return 0;
}

} // namespace apitoken::daemon
