#include "daemon/bus_leak_methods.hpp"

#include "daemon/bus_method_support.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/message_codec.hpp"
#include "store/secret_buffer.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::daemon::bus {
namespace {

using ipc::MessagePtr;
namespace key = ipc::key;

// An id is 12 hex characters; a little more is read (and answered as
// unknown) so that a scanner's near-miss gets an answer, not a refusal.
constexpr std::size_t kMaxIdBytes = 64;
// Longer text than a token is read past (never copied) and answered like
// any malformed token: left out.
constexpr std::size_t kMaxTokenBytes = 4096;

ipc::Dictionary dictionary_of(const LeakLookup& answer) {
    ipc::Dictionary out{{key::kId, answer.id}, {key::kState, std::string(answer.state)}};
    if (answer.visible) {
        out.emplace(key::kUser, answer.user);
        out.emplace(key::kName, answer.name);
    }
    return out;
}

} // namespace

int on_lookup_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        std::vector<std::string> ids;
        read_bounded_strings(
            m, ipc::kMaxLookupIds, kMaxIdBytes,
            [&](const char* text, std::size_t length) { ids.emplace_back(text, length); });
        const std::size_t bytes = text_bytes(ids);
        return after_caller_is_known(
            self, m, bytes, [&self, ids](sd_bus_message* call, const Caller& caller) {
                std::vector<ipc::Dictionary> answers;
                for (const auto& answer : self.service().leaks().look_up(caller, ids)) {
                    answers.push_back(dictionary_of(answer));
                }
                int r = 0;
                const MessagePtr reply = new_reply(call, r);
                if (r >= 0) {
                    r = ipc::append_dictionaries(reply.get(), answers);
                }
                return send_or_fail(call, reply, r);
            });
    });
}

int on_revoke_leaked_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        // Shared, because the body that waits for the caller is copyable;
        // the buffers are wiped as each is verified, or when the call ends.
        auto tokens = std::make_shared<std::vector<store::SecretBuffer>>();
        read_bounded_strings(m, ipc::kMaxLeakedTokens, kMaxTokenBytes,
                             [&](const char* text, std::size_t /*length*/) {
                                 tokens->push_back(secret_from(text));
                             });
        const std::size_t bytes = tokens->size() * store::kTokenLength;
        return after_caller_is_known(
            self, m, bytes, [&self, tokens](sd_bus_message* call, const Caller& caller) {
                self.service().leaks().revoke(
                    caller, std::move(*tokens),
                    [held = ipc::share(call)](const std::optional<Failure>& failure,
                                              const std::vector<std::string>& ids) {
                        if (failure) {
                            return reply_failure(held.get(), *failure);
                        }
                        int r = 0;
                        const MessagePtr reply = new_reply(held.get(), r);
                        if (r >= 0) {
                            r = ipc::append_strings(reply.get(), ids);
                        }
                        send_or_fail(held.get(), reply, r);
                    });
                return 1;
            });
    });
}

} // namespace apitoken::daemon::bus
