// scan: finds leaked tokens (leak_scan), asks apitokend what they are
// (LookupTokens), revokes them on request (RevokeLeakedTokens).
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/failure_message.hpp"
#include "cli/leak_journal.hpp"
#include "cli/leak_scan.hpp"
#include "cli/output.hpp"
#include "cli/scan_report.hpp"
#include "ipc/bus_api.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

namespace apitoken::cli {
namespace {

using nlohmann::json;

void print_unreadable(std::string_view path, std::string_view reason) {
    std::cerr << "apitokenctl: scan: " << shown(path) << ": " << reason << '\n';
}

void print_daemon_failure(const ipc::Outcome& outcome, const std::string& what) {
    std::cerr << "apitokenctl: " << failure_message(outcome, what) << '\n';
}

// LookupTokens for every id found, kMaxLookupIds at a time: one verdict
// per sighting. False (printed) when apitokend could not answer.
bool look_up(ipc::Client& client, const std::vector<Sighting>& sightings,
             std::vector<TokenVerdict>& verdicts) {
    std::set<std::string> unique;
    for (const auto& s : sightings) {
        unique.insert(s.id);
    }
    const std::vector<std::string> ids(unique.begin(), unique.end());
    std::map<std::string, ipc::TokenLookup, std::less<>> answers;
    for (std::size_t at = 0; at < ids.size(); at += ipc::kMaxLookupIds) {
        const auto end = at + std::min(ipc::kMaxLookupIds, ids.size() - at);
        const std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(at),
                                             ids.begin() + static_cast<std::ptrdiff_t>(end));
        std::vector<ipc::TokenLookup> found;
        const ipc::Outcome outcome = client.lookup_tokens(chunk, found);
        if (!outcome.ok()) {
            print_daemon_failure(outcome, "the tokens found");
            return false;
        }
        for (auto& answer : found) {
            std::string id = answer.id;
            answers.insert_or_assign(std::move(id), std::move(answer));
        }
    }
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        const auto it = answers.find(sightings[i].id);
        if (it == answers.end()) { // not answered: nothing to tell
            verdicts[i].state = ipc::token_state::kUnknown;
            continue;
        }
        verdicts[i].state = it->second.state;
        verdicts[i].user = it->second.user;
        verdicts[i].name = it->second.name;
    }
    return true;
}

// RevokeLeakedTokens for every live or unknown token found, each distinct
// token once, kMaxLeakedTokens at a time; the tokens are wiped once sent.
// False (printed) when a call failed.
bool revoke(ipc::Client& client, std::vector<Sighting>& sightings,
            std::vector<TokenVerdict>& verdicts) {
    // The distinct tokens to send (a sighting of each), and which one each
    // sighting holds.
    std::vector<std::size_t> first_of;
    std::vector<std::size_t> token_of(sightings.size(), SIZE_MAX);
    std::map<std::string_view, std::size_t> distinct; // views into `sightings`
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        if (should_send_for_revocation(verdicts[i])) {
            const auto [it, added] =
                distinct.try_emplace(sightings[i].token.view(), first_of.size());
            if (added) {
                first_of.push_back(i);
            }
            token_of[i] = it->second;
        }
    }
    std::vector<std::string> ids;
    ids.reserve(first_of.size());
    for (const std::size_t i : first_of) {
        ids.push_back(sightings[i].id);
    }
    std::vector<bool> revoked(first_of.size(), false);
    bool ok = true;
    for (const auto& call : revocation_calls(ids, ipc::kMaxLeakedTokens)) {
        std::vector<ipc::SensitiveString> tokens;
        tokens.reserve(call.size());
        for (const std::size_t t : call) {
            tokens.emplace_back(sightings[first_of[t]].token.view());
        }
        std::vector<std::string> answered;
        const ipc::Outcome outcome = client.revoke_leaked_tokens(tokens, answered);
        tokens.clear(); // wiped
        if (!outcome.ok()) {
            print_daemon_failure(outcome, "the tokens found");
            ok = false;
            break;
        }
        for (const std::size_t t : call) {
            revoked[t] = std::find(answered.begin(), answered.end(), ids[t]) != answered.end();
        }
    }
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        sightings[i].token.clear(); // no longer needed
        verdicts[i].revoked_now = token_of[i] != SIZE_MAX && revoked[token_of[i]];
    }
    return ok;
}

void print_text(const std::vector<Sighting>& sightings, const std::vector<TokenVerdict>& verdicts) {
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        std::cout << sighting_line(sightings[i], verdicts[i]) << '\n';
    }
}

void print_json(const std::vector<Sighting>& sightings, const std::vector<TokenVerdict>& verdicts,
                bool revoke_asked) {
    json out = json::array();
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        out.push_back(sighting_json(sightings[i], verdicts[i], revoke_asked));
    }
    std::cout << json_text(out, 2) << '\n';
}

// What a person should do next, on stderr (tokens counted once however
// often they were found).
void print_advice(const std::vector<Sighting>& sightings, const std::vector<TokenVerdict>& verdicts,
                  const ScanOptions& options) {
    std::set<std::string_view> live;
    std::set<std::string_view> revoked_now;
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        if (verdicts[i].revoked_now) {
            revoked_now.insert(sightings[i].id);
        } else if (verdicts[i].state == ipc::token_state::kLive) {
            live.insert(sightings[i].id);
        }
    }
    const auto tokens = [](std::size_t n, const char* what) {
        return std::to_string(n) + " " + what + (n == 1 ? " token" : " tokens");
    };
    if (!revoked_now.empty()) {
        std::cerr << "apitokenctl: revoked " << tokens(revoked_now.size(), "leaked")
                  << "; remove them from where they were found\n";
    }
    if (!live.empty()) {
        std::cerr << "apitokenctl: " << tokens(live.size(), "live")
                  << (options.revoke
                          ? " not revoked: the text found is not the token (a wrong secret), "
                            "or revoking failed"
                          : " found: revoke with apitokenctl scan --revoke (or "
                            "apitokenctl revoke ID) and use new ones")
                  << '\n';
    }
}

} // namespace

int run_scan(const GlobalOptions& global, const ScanOptions& options,
             std::chrono::microseconds call_timeout) {
    std::vector<std::string> paths = options.paths;
    if (paths.empty()) {
        if (::isatty(STDIN_FILENO) == 1) {
            return usage_error("scan: name the files or directories to scan, or - for standard "
                               "input (see apitokenctl scan --help)");
        }
        paths.emplace_back("-");
    }
    ScanSettings settings;
    settings.git_objects = options.git_objects;
    settings.keep_tokens = options.revoke; // only --revoke needs the secrets
    settings.on_error = print_unreadable;
    LeakScanner scanner(std::move(settings));
    for (const auto& path : paths) {
        scanner.scan_path(path);
    }
    std::vector<Sighting> sightings = scanner.take_sightings();
    std::vector<TokenVerdict> verdicts(sightings.size());
    ScanOutcome outcome{.unreadable = scanner.had_errors()};
    if (options.offline) {
        outcome.live_found = !sightings.empty();
    } else if (!sightings.empty()) {
        // Connected only now: a long scan must not eat the call's deadline.
        ipc::Client client(call_timeout, global.transport());
        outcome.daemon_failed = !look_up(client, sightings, verdicts);
        if (!outcome.daemon_failed && options.revoke) {
            outcome.daemon_failed = !revoke(client, sightings, verdicts);
        }
        outcome.live_found = std::any_of(verdicts.begin(), verdicts.end(), is_live);
    }
    const uid_t caller = ::getuid();
    for (std::size_t i = 0; i < sightings.size(); ++i) {
        sightings[i].token.clear();
        if (verdicts[i].revoked_now) {
            log_leak_revoked(sightings[i].id, sightings[i].path, sightings[i].line, caller);
        }
    }
    if (global.json) {
        print_json(sightings, verdicts, options.revoke);
    } else {
        print_text(sightings, verdicts);
    }
    std::cout.flush();
    print_advice(sightings, verdicts, options);
    return scan_exit_status(outcome);
}

} // namespace apitoken::cli
