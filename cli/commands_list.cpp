// list and show: reading tokens (ListTokensEx).
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/output.hpp"
#include "cli/token_json.hpp"
#include "cli/token_text.hpp"

#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <tuple>

namespace apitoken::cli {
namespace {

using nlohmann::json;

// The name of a uid on this host, "" when there is none.
std::string user_name_of(std::uint32_t uid) {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(static_cast<std::size_t>(size > 0 ? size : 16384));
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
        return {};
    }
    return found->pw_name;
}

std::string subject_of(const ListOptions& options) {
    return options.filter.all_users ? std::string("every user's tokens") : whose(options.user);
}

} // namespace

ipc::Outcome find_token(ipc::Client& client, const std::string& user, const std::string& id,
                        std::optional<ipc::TokenInfo>& found) {
    std::vector<ipc::TokenInfo> tokens;
    ipc::Outcome outcome = client.list_tokens_ex(user, {}, tokens);
    const auto it =
        std::find_if(tokens.begin(), tokens.end(), [&](const auto& t) { return t.id == id; });
    if (outcome.ok() && it != tokens.end()) {
        found = std::move(*it);
    }
    return outcome;
}

int run_list(ipc::Client& client, const GlobalOptions& global, const ListOptions& options) {
    std::vector<ipc::TokenInfo> tokens;
    const ipc::Outcome outcome =
        client.list_tokens_ex(options.user, list_filter_dictionary(options.filter), tokens);
    if (!outcome.ok()) {
        return fail(outcome, subject_of(options));
    }
    const bool with_owner = options.filter.all_users;
    std::sort(tokens.begin(), tokens.end(), [with_owner](const auto& a, const auto& b) {
        if (with_owner && a.user != b.user) {
            return a.user < b.user;
        }
        return std::tie(a.created, a.id) < std::tie(b.created, b.id);
    });
    const std::int64_t now = now_seconds();
    if (global.json) {
        json list = json::array();
        for (const auto& t : tokens) {
            list.push_back(token_json(t, now));
        }
        std::cout << json_text(json{{"tokens", list}}, 2) << '\n';
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows{list_header(with_owner)};
    for (const auto& t : tokens) {
        rows.push_back(list_row(t, now, with_owner));
    }
    print_table(rows);
    return kExitOk;
}

int run_show(ipc::Client& client, const GlobalOptions& global, const std::string& user,
             const std::string& id) {
    std::optional<ipc::TokenInfo> found;
    const std::string subject = "token " + shown(id);
    const ipc::Outcome outcome = find_token(client, user, id, found);
    if (!outcome.ok()) {
        return fail(outcome, subject);
    }
    if (!found) {
        ipc::Outcome none;
        none.kind = ipc::Outcome::Kind::Refused;
        none.error = ipc::Error::NoSuchToken;
        return fail(none, subject);
    }
    const std::int64_t now = now_seconds();
    if (global.json) {
        std::cout << json_text(token_json(*found, now), 2) << '\n';
        return kExitOk;
    }
    print_table(show_rows(*found, now, user_name_of));
    if (!found->recent_sources.empty()) {
        print_table(recent_sources_rows(*found, now));
    }
    return kExitOk;
}

} // namespace apitoken::cli
