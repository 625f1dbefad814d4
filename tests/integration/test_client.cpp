// apitoken-test-call: one ipc::Client call per run, for the integration
// tests, which run it under setpriv as other uids. Prints one line:
//   ok [FIELDS...]          the call succeeded
//   refused NAME MESSAGE    the daemon answered io.apitoken1.Error.NAME
//   unavailable MESSAGE     no daemon / no bus / deadline passed
//   failed MESSAGE          anything else
// `list` prints "ok N" and then one line per token; `lookup ID...` prints
// "ok N" and then "ID STATE USER NAME" per id ("-" for what is not shown);
// `revoke-leaked TOKEN...` prints "ok ID,ID..." (or "ok -").
// `ex METHOD USER [ID|NAME] [KEY:TYPE=VALUE...]` calls one of the a{sv}
// methods with the options written out (TYPE s, x, t, u, b or as, whose
// values are separated by commas), so that tests can send any key with any
// of these types; see run_ex for what each prints.
#include "ipc/bus_api.hpp"
#include "ipc/bus_client.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/token_info.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using apitoken::ipc::Outcome;

std::string short_error_name(apitoken::ipc::Error error) {
    const std::string_view full = apitoken::ipc::error_name(error);
    return std::string(full.substr(full.rfind('.') + 1));
}

int print(const Outcome& outcome, const std::string& fields = {}) {
    switch (outcome.kind) {
    case Outcome::Kind::Ok:
        std::cout << "ok" << (fields.empty() ? "" : " " + fields) << '\n';
        break;
    case Outcome::Kind::Refused:
        std::cout << "refused " << short_error_name(outcome.error) << ' ' << outcome.message
                  << '\n';
        break;
    case Outcome::Kind::Unavailable: std::cout << "unavailable " << outcome.message << '\n'; break;
    case Outcome::Kind::OutOfMemory:
    case Outcome::Kind::Failed: std::cout << "failed " << outcome.message << '\n'; break;
    }
    return 0;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ",") + item;
    }
    return out.empty() ? "-" : out;
}

int usage() {
    std::cerr << "usage: apitoken-test-call [--timeout-ms=N] auth USER TOKEN SERVICE RHOST [RUSER "
                 "[UID]] |\n"
                 "       create USER NAME EXPIRES [SERVICE...] | list USER | list-ex USER | revoke "
                 "USER ID |\n"
                 "       revoke-all USER | rename USER ID NAME | status |\n"
                 "       lookup ID... | revoke-leaked TOKEN... |\n"
                 "       ex METHOD USER [ID|NAME] [KEY:TYPE=VALUE...]\n";
    return 2;
}

// KEY:TYPE=VALUE into the dictionary; false when it is not of that shape.
bool add_item(apitoken::ipc::Dictionary& items, const std::string& spec) {
    const auto colon = spec.find(':');
    const auto equals = spec.find('=', colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || equals == std::string::npos) {
        return false;
    }
    const std::string key = spec.substr(0, colon);
    const std::string type = spec.substr(colon + 1, equals - colon - 1);
    const std::string value = spec.substr(equals + 1);
    if (type == "s") {
        items.emplace(key, value);
    } else if (type == "x") {
        items.emplace(key, static_cast<std::int64_t>(std::stoll(value)));
    } else if (type == "t") {
        items.emplace(key, static_cast<std::uint64_t>(std::stoull(value)));
    } else if (type == "u") {
        items.emplace(key, static_cast<std::uint32_t>(std::stoul(value)));
    } else if (type == "b") {
        items.emplace(key, value == "true" || value == "1");
    } else if (type == "as") {
        std::vector<std::string> list;
        for (std::size_t at = 0; !value.empty() && at <= value.size();) {
            const auto comma = std::min(value.find(',', at), value.size());
            list.push_back(value.substr(at, comma - at));
            at = comma + 1;
        }
        items.emplace(key, std::move(list));
    } else {
        return false;
    }
    return true;
}

// One token of ListTokensEx (or a created one) on one line, KEY=VALUE words.
void print_token(const apitoken::ipc::TokenInfo& t) {
    std::string recent;
    for (const auto& s : t.recent_sources) {
        recent += (recent.empty() ? "" : ",") + (s.rhost.empty() ? "-" : s.rhost) + "/" +
                  (s.service.empty() ? "-" : s.service) + "/" + std::to_string(s.count);
    }
    std::cout << "id=" << t.id << " user=" << t.user << " uid=" << t.uid
              << " orphaned=" << (t.orphaned ? 1 : 0) << " expires=" << t.expires
              << " created=" << t.created << " last_used=" << t.last_used
              << " use_count=" << t.use_count << " max_uses=" << t.max_uses
              << " last_rhost=" << (t.last_rhost.empty() ? "-" : t.last_rhost)
              << " sources=" << join(t.sources) << " services=" << join(t.services)
              << " hosts=" << join(t.hosts) << " recent=" << (recent.empty() ? "-" : recent)
              << " rotated_from=" << (t.rotated_from.empty() ? "-" : t.rotated_from)
              << " rotated_to=" << (t.rotated_to.empty() ? "-" : t.rotated_to)
              << " grace_until=" << t.grace_until << " created_by=" << t.created_by << '\n';
}

// ex ListTokensEx USER ITEMS...   ok N, then a line per token (print_token)
// ex CreateTokenEx USER NAME ITEMS... / ex RotateToken USER ID ITEMS...
//                                 ok ID TOKEN, then the token's line
// ex UpdateToken USER ID ITEMS... ok
// ex RevokeTokens USER ITEMS...   ok N IDS (comma-separated, "-" for none)
int run_ex(apitoken::ipc::Client& client, const std::vector<std::string>& a) {
    if (a.size() < 3) {
        return usage();
    }
    const std::string& method = a[1];
    const bool has_second =
        method == "CreateTokenEx" || method == "RotateToken" || method == "UpdateToken";
    if (has_second && a.size() < 4) {
        return usage();
    }
    apitoken::ipc::Dictionary items;
    for (std::size_t i = has_second ? 4 : 3; i < a.size(); ++i) {
        if (!add_item(items, a[i])) {
            return usage();
        }
    }
    if (method == "ListTokensEx") {
        std::vector<apitoken::ipc::TokenInfo> tokens;
        const Outcome o = client.list_tokens_ex(a[2], items, tokens);
        print(o, std::to_string(tokens.size()));
        for (const auto& t : tokens) {
            print_token(t);
        }
        return 0;
    }
    if (method == "CreateTokenEx" || method == "RotateToken") {
        apitoken::ipc::CreatedToken created;
        const Outcome o = method == "CreateTokenEx"
                              ? client.create_token_ex(a[2], a[3], items, created)
                              : client.rotate_token(a[2], a[3], items, created);
        print(o, created.id + " " + std::string(created.token.view()));
        if (o.kind == Outcome::Kind::Ok) {
            print_token(created.info);
        }
        return 0;
    }
    if (method == "UpdateToken") {
        return print(client.update_token(a[2], a[3], items));
    }
    if (method == "RevokeTokens") {
        std::vector<std::string> ids;
        const Outcome o = client.revoke_tokens(a[2], items, ids);
        return print(o, std::to_string(ids.size()) + " " + join(ids));
    }
    return usage();
}

// list USER: one line per token, ListTokens' fields.
int run_list(apitoken::ipc::Client& client, const std::string& user) {
    std::vector<apitoken::ipc::TokenInfo> tokens;
    const Outcome o = client.list_tokens(user, tokens);
    print(o, std::to_string(tokens.size()));
    for (const auto& t : tokens) {
        std::cout << t.id << ' ' << t.name << ' ' << t.created << ' ' << t.expires << ' '
                  << t.last_used << ' ' << t.use_count << ' '
                  << (t.last_service.empty() ? "-" : t.last_service) << ' '
                  << (t.last_rhost.empty() ? "-" : t.last_rhost) << ' ' << join(t.services) << '\n';
    }
    return 0;
}

// list-ex USER: id, owner, uid and whether it is orphaned.
int run_list_ex(apitoken::ipc::Client& client, const std::string& user) {
    std::vector<apitoken::ipc::TokenInfo> tokens;
    const Outcome o = client.list_tokens_ex(user, {}, tokens);
    print(o, std::to_string(tokens.size()));
    for (const auto& t : tokens) {
        std::cout << t.id << ' ' << t.user << ' ' << t.uid << ' '
                  << (t.orphaned ? "orphaned" : "live") << '\n';
    }
    return 0;
}

// The leak-scanning verbs: `lookup ID...`, `revoke-leaked TOKEN...`.
int run_leak(apitoken::ipc::Client& client, const std::string& verb,
             const std::vector<std::string>& a) {
    if (verb == "lookup") {
        std::vector<apitoken::ipc::TokenLookup> answers;
        const Outcome o =
            client.lookup_tokens(std::vector<std::string>(a.begin() + 1, a.end()), answers);
        std::string lines;
        for (const auto& answer : answers) {
            const auto shown = [](const std::string& text) { return text.empty() ? "-" : text; };
            lines += "\n" + answer.id + " " + answer.state + " " + shown(answer.user) + " " +
                     shown(answer.name);
        }
        return print(o, std::to_string(answers.size()) + lines);
    }
    if (verb == "revoke-leaked") {
        std::vector<apitoken::ipc::SensitiveString> tokens;
        for (auto it = a.begin() + 1; it != a.end(); ++it) {
            tokens.emplace_back(*it);
        }
        std::vector<std::string> revoked;
        const Outcome o = client.revoke_leaked_tokens(tokens, revoked);
        return print(o, join(revoked));
    }
    return usage();
}

int run(apitoken::ipc::Client& client, const std::vector<std::string>& a) {
    const std::string& verb = a.at(0);
    if (verb == "auth" && (a.size() == 5 || a.size() == 6 || a.size() == 7)) {
        // auth USER TOKEN SERVICE RHOST [RUSER [REQUESTER_UID]]
        // The ruser lives in `a` (a ternary with "" would make a temporary
        // string that the view outlives).
        const std::string_view ruser = a.size() > 5 ? std::string_view(a[5]) : std::string_view();
        apitoken::ipc::AuthContext context{a[3], a[4], ruser, std::nullopt};
        if (a.size() > 6) {
            context.requester_uid = static_cast<std::uint32_t>(std::stoul(a[6]));
        }
        std::string id;
        const Outcome o = client.authenticate(a[1], a[2], context, &id);
        return print(o, id);
    }
    if (verb == "create" && a.size() >= 4) {
        apitoken::ipc::CreatedToken created;
        const std::vector<std::string> services(a.begin() + 4, a.end());
        const Outcome o = client.create_token(a[1], a[2], std::stoll(a[3]), services, created);
        return print(o, created.id + " " + std::string(created.token.view()) + " " +
                            std::to_string(created.created) + " " +
                            std::to_string(created.expires));
    }
    if (verb == "list" && a.size() == 2) {
        return run_list(client, a[1]);
    }
    if (verb == "ex") {
        return run_ex(client, a);
    }
    if (verb == "list-ex" && a.size() == 2) {
        return run_list_ex(client, a[1]);
    }
    if (verb == "revoke" && a.size() == 3) {
        return print(client.revoke_token(a[1], a[2]));
    }
    if (verb == "revoke-all" && a.size() == 2) {
        std::uint64_t revoked = 0;
        const Outcome o = client.revoke_all_tokens(a[1], revoked);
        return print(o, std::to_string(revoked));
    }
    if (verb == "rename" && a.size() == 4) {
        return print(client.rename_token(a[1], a[2], a[3]));
    }
    if (verb == "lookup" || verb == "revoke-leaked") {
        return run_leak(client, verb, a);
    }
    if (verb == "status" && a.size() == 1) {
        apitoken::ipc::DaemonStatus status;
        const Outcome o = client.status(status);
        return print(o, status.version + " " +
                            (status.token_count_known ? std::to_string(status.token_count)
                                                      : std::string("-")) +
                            " " + std::to_string(status.max_lifetime));
    }
    return usage();
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    long timeout_ms = 5000;
    if (!args.empty() && args[0].starts_with("--timeout-ms=")) {
        timeout_ms = std::stol(args[0].substr(13));
        args.erase(args.begin());
    }
    if (args.empty()) {
        return usage();
    }
    apitoken::ipc::Client client{std::chrono::milliseconds(timeout_ms)};
    return run(client, args);
}
