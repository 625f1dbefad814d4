#include "daemon/bus_import_method.hpp"

#include "daemon/bus_method_support.hpp"
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

// Times are 0 (none) when absent.
ForeignToken foreign_token_of(const ipc::Dictionary& items) {
    return {.origin_id = text_item(items, key::kOriginId).value_or(""),
            .name = text_item(items, key::kName).value_or(""),
            .jenkins_hash = text_item(items, key::kJenkinsHash).value_or(""),
            .created = seconds_item(items, key::kCreated).value_or(0),
            .expires = seconds_item(items, key::kExpires).value_or(0),
            .last_used = seconds_item(items, key::kLastUsed).value_or(0),
            .use_count = item<std::uint64_t>(items, key::kUseCount, "a uint64").value_or(0),
            .services = list_item(items, key::kServices).value_or(std::vector<std::string>{})};
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
            call->dry_run = call->dry_run || flag_item(entry, key::kDryRun);
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
