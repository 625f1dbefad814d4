#include "daemon/bus_import_method.hpp"

#include "daemon/bus_method_support.hpp"
#include "daemon/token_policy.hpp"
#include "ipc/bus_api.hpp"
#include "ipc/dictionary.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::daemon::bus {
namespace {

using ipc::MessagePtr;
namespace key = ipc::key;

// A time of the request: 0 (none) up to the year 9999.
std::int64_t time_item(const ipc::Dictionary& items, const char* key) {
    const auto value = item<std::int64_t>(items, key, "an int64").value_or(0);
    if (value < 0 || value > kLatestExpiry) {
        throw ApiError(ipc::Error::InvalidArgument,
                       std::string("\"") + key + "\" is out of range (0 to the year 9999)");
    }
    return value;
}

ForeignToken foreign_token_of(const ipc::Dictionary& items) {
    return {.origin_id = item<std::string>(items, key::kOriginId, "a string").value_or(""),
            .name = item<std::string>(items, key::kName, "a string").value_or(""),
            .jenkins_hash = item<std::string>(items, key::kJenkinsHash, "a string").value_or(""),
            .created = time_item(items, key::kCreated),
            .expires = time_item(items, key::kExpires),
            .last_used = time_item(items, key::kLastUsed),
            .use_count = item<std::uint64_t>(items, key::kUseCount, "a uint64").value_or(0),
            .services = item<std::vector<std::string>>(items, key::kServices, "an array of strings")
                            .value_or(std::vector<std::string>{})};
}

struct ImportCall {
    std::string user;
    std::vector<ForeignToken> tokens;
    bool dry_run = false;
};

ipc::Dictionary result_of(const ForeignToken& token, const store::ImportOutcome& outcome) {
    return {{key::kOriginId, token.origin_id},
            {key::kResult, std::string(outcome.imported ? ipc::import_result::kImported
                                                        : ipc::import_result::kAlreadyImported)},
            {key::kId, outcome.id.hex()},
            {key::kName, outcome.name}};
}

} // namespace

int on_import_tokens(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    BusObject& self = object_of(userdata);
    return guarded(error, self.log(), [&] {
        auto call = std::make_shared<ImportCall>();
        const char* user = nullptr;
        check_read(sd_bus_message_read_basic(m, 's', &user));
        call->user = user;
        std::vector<ipc::Dictionary> entries;
        check_read(ipc::read_dictionaries(m, entries, ipc::kRequestLimits));
        if (entries.size() > ipc::kMaxImportTokens) {
            throw ApiError(ipc::Error::InvalidArgument, "at most " +
                                                            std::to_string(ipc::kMaxImportTokens) +
                                                            " tokens can be imported in one call");
        }
        std::size_t bytes = call->user.size();
        for (const auto& entry : entries) {
            call->dry_run =
                call->dry_run || item<bool>(entry, key::kDryRun, "a boolean").value_or(false);
            call->tokens.push_back(foreign_token_of(entry));
            const ForeignToken& t = call->tokens.back();
            bytes += t.origin_id.size() + t.name.size() + t.jenkins_hash.size() +
                     text_bytes(t.services) + sizeof(ForeignToken);
        }
        return after_caller_is_known(
            self, m, bytes, [&self, call](sd_bus_message* held, const Caller& caller) {
                const auto outcomes = self.service().imports().import_tokens(
                    caller, call->user, call->tokens, call->dry_run);
                std::vector<ipc::Dictionary> results;
                results.reserve(outcomes.size());
                for (std::size_t i = 0; i < outcomes.size(); ++i) {
                    results.push_back(result_of(call->tokens[i], outcomes[i]));
                }
                int r = 0;
                const MessagePtr reply = new_reply(held, r);
                if (r >= 0) {
                    r = ipc::append_dictionaries(reply.get(), results);
                }
                return send_or_fail(held, reply, r);
            });
    });
}

} // namespace apitoken::daemon::bus
