#include "daemon/caller_credentials.hpp"

#include "ipc/sd_handles.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <vector>

namespace apitoken::daemon {
namespace {

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
// The loop waits this long at most when it must ask at once (a property).
constexpr std::uint64_t kBlockingQuestionTimeoutUsec = 2'000'000;

} // namespace

int query_caller(sd_bus_message* message, Caller& out) {
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) {
        return -EPERM;
    }
    sd_bus* bus = sd_bus_message_get_bus(message);
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, kDriver, kDriverPath, kDriver, kQuestion);
    const ipc::MessagePtr question(raw);
    if (r < 0 || (r = sd_bus_message_append_basic(question.get(), 's', sender)) < 0) {
        return r;
    }
    ipc::BusError error;
    raw = nullptr;
    r = sd_bus_call(bus, question.get(), kBlockingQuestionTimeoutUsec, error.get(), &raw);
    const ipc::MessagePtr reply(raw);
    if (r < 0) {
        return r;
    }
    return read_credentials(reply.get(), out);
}

Failure unidentified(int error) {
    if (error == -ETIMEDOUT || error == -EBUSY) {
        return busy();
    }
    return {ipc::Error::AccessDenied,
            "cannot identify the caller: " + std::generic_category().message(-error)};
}

struct CallerQueries::Query {
    CallerQueries* owner = nullptr;
    std::string sender;
    std::vector<CallerLookup::Answer> waiting; // the calls of this connection so far
    std::size_t large_bytes = 0;               // what its large calls hold
    ipc::SlotPtr slot;
};

CallerQueries::CallerQueries() = default;
CallerQueries::~CallerQueries() = default;

void CallerQueries::add_direct(sd_bus* connection, const Caller& caller) {
    direct_[connection] = caller;
}

void CallerQueries::remove_direct(sd_bus* connection) noexcept {
    direct_.erase(connection);
}

void CallerQueries::ask(sd_bus_message* message, const CallerLookup::Answer& answer,
                        std::size_t bytes) {
    if (const auto direct = direct_.find(sd_bus_message_get_bus(message));
        direct != direct_.end()) {
        return answer(Identity{direct->second});
    }
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) {
        return answer(unidentified(-EPERM));
    }
    if (const auto known = known_.find(std::string_view(sender)); known != known_.end()) {
        return answer(Identity{known->second});
    }
    const std::size_t large = bytes > kSmallCallBytes ? bytes : 0;
    int r = -EBUSY;
    if (large > kMaxWaitingBytes - std::min(waiting_bytes_, kMaxWaitingBytes)) {
        return answer(unidentified(r));
    }
    const auto asked = queries_.find(std::string_view(sender));
    if (asked == queries_.end()) {
        // A connection's first call: one per connection, so that a
        // connection with many calls waiting never crowds out a login's.
        if (queries_.size() < kMaxConnectionsWaiting) {
            r = send(message, sender, answer);
        }
    } else if (asked->second->waiting.size() < kMaxWaitingPerConnection &&
               waiting_ - queries_.size() < kMaxWaiting) {
        asked->second->waiting.push_back(answer);
        r = 0;
    }
    if (r < 0) {
        return answer(unidentified(r));
    }
    ++waiting_;
    waiting_bytes_ += large;
    queries_.find(std::string_view(sender))->second->large_bytes += large;
}

int CallerQueries::send(sd_bus_message* message, const char* sender,
                        const CallerLookup::Answer& answer) {
    auto query = std::make_unique<Query>();
    query->owner = this;
    query->sender = sender;
    query->waiting.push_back(answer);
    sd_bus_slot* slot = nullptr;
    const int r =
        sd_bus_call_method_async(sd_bus_message_get_bus(message), &slot, kDriver, kDriverPath,
                                 kDriver, kQuestion, on_reply, query.get(), "s", sender);
    if (r < 0) {
        return r;
    }
    query->slot.reset(slot);
    const std::string key = query->sender;
    queries_.emplace(key, std::move(query));
    return 0;
}

int CallerQueries::ask_now(sd_bus_message* message, Caller& out) {
    if (const auto direct = direct_.find(sd_bus_message_get_bus(message));
        direct != direct_.end()) {
        out = direct->second;
        return 0;
    }
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) {
        return -EPERM;
    }
    if (const auto known = known_.find(std::string_view(sender)); known != known_.end()) {
        out = known->second;
        return 0;
    }
    const int r = query_caller(message, out);
    if (r >= 0) {
        remember(sender, out);
    }
    return r;
}

// A connection's uid and groups are what the bus recorded when it
// connected; they never change, and the bus never gives its unique name to
// another connection. So the answer holds for every later call on that
// connection: a client making many calls costs one question, and its calls
// are placed in their caller's hashing lane at once.
void CallerQueries::remember(const std::string& sender, const Caller& caller) {
    if (known_order_.size() >= kMaxKnownConnections) {
        known_.erase(known_order_.front());
        known_order_.pop_front();
    }
    if (known_.emplace(sender, caller).second) {
        known_order_.push_back(sender);
    }
}

int CallerQueries::on_reply(sd_bus_message* reply, void* userdata, sd_bus_error* /*error*/) {
    auto* query = static_cast<Query*>(userdata);
    CallerQueries& owner = *query->owner;
    const auto entry = owner.queries_.find(query->sender);
    // Taken out before answering: sd-bus holds its own reference to the
    // slot while this callback runs, so releasing ours here is safe.
    const std::unique_ptr<Query> done = std::move(entry->second);
    owner.queries_.erase(entry);
    owner.waiting_ -= done->waiting.size();
    owner.waiting_bytes_ -= done->large_bytes;
    Caller caller;
    int r = 0;
    if (sd_bus_message_is_method_error(reply, nullptr) != 0) {
        r = -std::abs(sd_bus_message_get_errno(reply));
        r = r == 0 ? -EPERM : r;
    } else {
        try {
            r = read_credentials(reply, caller);
            if (r >= 0) {
                owner.remember(done->sender, caller);
            }
        } catch (const std::bad_alloc&) {
            r = -ENOMEM;
        }
    }
    const Identity who = r < 0 ? Identity{unidentified(r)} : Identity{caller};
    // Nothing may unwind into sd-bus. The answers catch their own failures;
    // should one still throw (out of memory while refusing), that call is
    // left to its caller's timeout.
    for (const auto& answer : done->waiting) {
        try {
            answer(who);
        } catch (...) { // NOLINT(bugprone-empty-catch)
        }
    }
    return 0;
}

} // namespace apitoken::daemon
