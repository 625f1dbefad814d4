// update, rotate and the bulk revoke: changing tokens under the policy
// (UpdateToken, RotateToken, RevokeTokens).
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/output.hpp"
#include "cli/time_text.hpp"
#include "cli/token_json.hpp"
#include "cli/token_text.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <iostream>
#include <map>

namespace apitoken::cli {
namespace {

using nlohmann::json;

void print_changes(const std::string& id, const std::optional<ipc::TokenInfo>& before,
                   const std::optional<ipc::TokenInfo>& after) {
    if (!before || !after) { // the daemon did it; what it was or is now is not known here
        std::cout << "updated " << id << '\n';
        return;
    }
    const auto changes = changes_between(*before, *after);
    if (changes.empty()) {
        std::cout << "updated " << id << ": nothing changed (it had these settings already)\n";
        return;
    }
    std::cout << "updated " << id << ":\n";
    std::vector<std::vector<std::string>> rows;
    rows.reserve(changes.size());
    for (const auto& change : changes) {
        rows.push_back({"  " + change.key + ":", change.before, "->", change.after});
    }
    print_table(rows);
}

// When the replaced token stops working, as the daemon says in its record
// (grace_until); 0 when it stopped already (it is gone, or its grace is over).
std::int64_t old_token_works_until(ipc::Client& client, const RotateOptions& options) {
    std::optional<ipc::TokenInfo> old;
    static_cast<void>(find_token(client, options.user, options.id, old));
    return old && old->grace_until > now_seconds() ? old->grace_until : 0;
}

void print_rotated_note(const ipc::CreatedToken& created, const RotateOptions& options,
                        std::int64_t works_until) {
    const std::int64_t now = now_seconds();
    std::cerr << "Token \"" << shown(created.info.name) << "\" rotated: " << created.id
              << " replaces " << options.id << "; " << options.id
              << (works_until > now ? " keeps working until " + rfc3339(works_until) + " (" +
                                          relative_time(works_until, now) + ")"
                                    : std::string(" no longer works"))
              << ".\n";
    if (::isatty(STDERR_FILENO) == 1) {
        std::cerr << "Store the new token now: it will not be shown again.\n";
    }
}

std::string subject_of(const BulkRevokeOptions& options) {
    return options.filter.all_users ? std::string("every user's tokens") : whose(options.user);
}

} // namespace

int run_update(ipc::Client& client, const GlobalOptions& global, const UpdateOptions& options) {
    std::optional<ipc::TokenInfo> before;
    static_cast<void>(find_token(client, options.user, options.id, before));
    const ipc::Outcome outcome =
        client.update_token(options.user, options.id, settings_dictionary(options.settings));
    if (!outcome.ok()) {
        return fail(outcome, "token " + shown(options.id));
    }
    std::optional<ipc::TokenInfo> after;
    static_cast<void>(find_token(client, options.user, options.id, after));
    if (!global.json) {
        print_changes(options.id, before, after);
        return kExitOk;
    }
    json changed = json::array();
    if (before && after) {
        for (const auto& change : changes_between(*before, *after)) {
            changed.push_back(change.key);
        }
    }
    const json token = after ? token_json(*after, now_seconds()) : json(nullptr);
    std::cout << json_text(json{{"id", options.id}, {"changed", changed}, {"token", token}}, 2)
              << '\n';
    return kExitOk;
}

int run_rotate(ipc::Client& client, const GlobalOptions& global, const RotateOptions& options) {
    ipc::CreatedToken created;
    const ipc::Outcome outcome = client.rotate_token(
        options.user, options.id, rotate_dictionary(options.grace, options.expires), created);
    if (!outcome.ok()) {
        return fail(outcome, "token " + shown(options.id));
    }
    // The secret first, before anything that could fail.
    if (!global.json) {
        write_secret(created.token.view());
        std::cout << '\n';
        std::cout.flush();
    }
    const std::int64_t works_until = old_token_works_until(client, options);
    if (global.json) {
        json rest = token_json(created.info, now_seconds());
        rest["replaced"] = {
            {"id", options.id},
            {"grace_until", works_until == 0 ? json(nullptr) : json(rfc3339(works_until))}};
        print_secret_json(created.token.view(), rest);
        std::cout.flush();
    }
    print_rotated_note(created, options, works_until);
    return kExitOk;
}

int run_bulk_revoke(ipc::Client& client, const GlobalOptions& global,
                    const BulkRevokeOptions& options) {
    // What each id was, for the report: read before the tokens go. A failure
    // here only makes the report shorter; RevokeTokens says what is wrong.
    std::vector<ipc::TokenInfo> listed;
    static_cast<void>(client.list_tokens_ex(
        options.user, list_filter_dictionary({.all_users = options.filter.all_users}), listed));
    std::map<std::string, ipc::TokenInfo, std::less<>> known;
    for (auto& t : listed) {
        known.emplace(t.id, std::move(t));
    }
    std::vector<std::string> ids;
    const ipc::Outcome outcome =
        client.revoke_tokens(options.user, revoke_filter_dictionary(options.filter), ids);
    if (!outcome.ok()) {
        return fail(outcome, subject_of(options));
    }
    const bool dry_run = options.filter.dry_run;
    if (global.json) {
        json tokens = json::array();
        const std::int64_t now = now_seconds();
        for (const auto& id : ids) {
            if (const auto it = known.find(id); it != known.end()) {
                tokens.push_back(token_json(it->second, now));
            }
        }
        std::cout << json_text(json{{"ids", ids}, {"dry_run", dry_run}, {"tokens", tokens}}, 2)
                  << '\n';
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& id : ids) {
        const auto it = known.find(id);
        rows.push_back({dry_run ? "would revoke" : "revoked", id,
                        it == known.end() ? "" : shown(it->second.user),
                        it == known.end() ? "" : "\"" + shown(it->second.name) + "\""});
    }
    print_table(rows);
    const std::string count = std::to_string(ids.size()) + (ids.size() == 1 ? " token" : " tokens");
    std::cout << (dry_run ? "would revoke " + count + " (dry run: nothing was revoked)"
                          : "revoked " + count)
              << '\n';
    return kExitOk;
}

} // namespace apitoken::cli
