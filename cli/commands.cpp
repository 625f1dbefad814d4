#include "cli/commands.hpp"

#include "cli/exit_status.hpp"
#include "cli/failure_message.hpp"
#include "cli/output.hpp"
#include "cli/time_text.hpp"
#include "cli/token_json.hpp"
#include "contract/duration.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <type_traits>
#include <variant>

namespace apitoken::cli {
namespace {

using nlohmann::json;

// CreateToken, for a daemon older than CreateTokenEx: what it answers, as
// CreateTokenEx would have said it.
ipc::Outcome create_the_old_way(ipc::Client& client, const CreateOptions& options,
                                ipc::CreatedToken& created) {
    const TokenSettings& s = options.settings;
    ipc::Outcome outcome =
        client.create_token(options.user, options.name, s.expires.value_or(ipc::kExpiresDefault),
                            s.services.value_or(std::vector<std::string>{}), created);
    if (outcome.ok()) {
        created.info.id = created.id;
        created.info.name = options.name;
        created.info.created = created.created;
        created.info.expires = created.expires;
        created.info.services = s.services.value_or(std::vector<std::string>{});
    }
    return outcome;
}

} // namespace

int run_create(ipc::Client& client, const GlobalOptions& global, const CreateOptions& options) {
    ipc::CreatedToken created;
    ipc::Outcome outcome = client.create_token_ex(options.user, options.name,
                                                  settings_dictionary(options.settings), created);
    if (outcome.unknown_method) {
        if (!fits_create_token(options.settings)) {
            std::cerr << "apitokenctl: this apitokend is too old for --description, --from, "
                         "--max-uses and --host (it has no CreateTokenEx); upgrade it\n";
            return kExitFailed;
        }
        created = {};
        outcome = create_the_old_way(client, options, created);
    }
    if (!outcome.ok()) {
        return fail(outcome, "token \"" + shown(options.name) + "\"");
    }
    if (global.json) {
        print_secret_json(created.token.view(), token_json(created.info, now_seconds()));
    } else {
        write_secret(created.token.view());
        std::cout << '\n';
    }
    std::cout.flush();
    if (::isatty(STDERR_FILENO) == 1) {
        std::cerr << "Token \"" << shown(options.name) << "\" (id " << created.id
                  << ") created, expires "
                  << (created.expires == 0 ? "never" : rfc3339(created.expires))
                  << ". Store it now: it will not be shown again.\n";
    }
    return kExitOk;
}

int run_revoke(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::vector<std::string>& ids) {
    int status = kExitOk;
    json revoked = json::array();
    json failed = json::array();
    for (const auto& id : ids) {
        const ipc::Outcome outcome = client.revoke_token(user, id);
        if (outcome.ok()) {
            revoked.push_back(id);
            if (!global.json) {
                std::cout << "revoked " << id << '\n';
            }
        } else {
            status = fail(outcome, "token " + shown(id));
            failed.push_back(
                {{"id", id}, {"error", failure_message(outcome, "token " + shown(id))}});
        }
    }
    if (global.json) {
        std::cout << json_text(json{{"revoked", revoked}, {"failed", failed}}, 2) << '\n';
    }
    return status;
}

int run_revoke_all(ipc::Client& client, const GlobalOptions& global, const std::string& user) {
    std::uint64_t count = 0;
    const ipc::Outcome outcome = client.revoke_all_tokens(user, count);
    if (!outcome.ok()) {
        return fail(outcome, whose(user));
    }
    if (global.json) {
        std::cout << json{{"revoked_count", count}}.dump(2) << '\n';
    } else {
        std::cout << "revoked " << count << " token" << (count == 1 ? "" : "s") << '\n';
    }
    return kExitOk;
}

int run_rename(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::string& id, const std::string& name) {
    const ipc::Outcome outcome = client.rename_token(user, id, name);
    if (!outcome.ok()) {
        return fail(outcome, "token " + shown(id));
    }
    if (global.json) {
        std::cout << json_text(json{{"id", id}, {"name", name}}, 2) << '\n';
    } else {
        std::cout << "renamed " << shown(id) << " to \"" << shown(name) << "\"\n";
    }
    return kExitOk;
}

namespace {

// The FleetState dictionary's scalar values as JSON (null for others).
json fleet_json(const ipc::Dictionary& fleet) {
    json out = json::object();
    for (const auto& [key, value] : fleet) {
        out[key] = std::visit(
            [](const auto& v) -> json {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, ipc::DictionaryList>) {
                    return nullptr;
                } else {
                    return v;
                }
            },
            static_cast<const ipc::Value::variant&>(value));
    }
    return out;
}

std::string fleet_text(const json& fleet) {
    if (fleet.value("mode", "") != "fleet") {
        return "fleet:         off (single host)\n";
    }
    const auto when = [](std::int64_t t) {
        return t == 0 ? std::string("never") : local_time_text(t);
    };
    std::string out = "fleet:         host " + fleet.value("host_name", "") + ", " +
                      (fleet.value("connected", false) ? "connected" : "OFFLINE") + "\n";
    out += "last sync:     " + when(fleet.value("last_sync", std::int64_t{0})) + "\n";
    // Time since the last completed sync (a caught-up host syncs at least
    // every fleet_poll_interval): what a change made elsewhere may wait.
    if (const auto lag = fleet.value("lag", std::int64_t{-1}); lag >= 0) {
        out += "lag:           " + daemon::format_duration(std::chrono::seconds{lag}) + "\n";
    }
    out += "queued revocations: " +
           std::to_string(fleet.value("queued_revocations", std::uint64_t{0})) + "\n";
    if (const std::string problem = fleet.value("problem", ""); !problem.empty()) {
        out += "fleet problem: " + shown(problem) + "\n";
    }
    if (fleet.value("failing_closed", false)) {
        out += "token logins FAIL CLOSED: offline for longer than fleet_offline_grace\n";
    }
    return out;
}

} // namespace

int run_status(ipc::Client& client, const GlobalOptions& global) {
    ipc::DaemonStatus status;
    const ipc::Outcome outcome = client.status(status);
    if (!outcome.ok()) {
        return fail(outcome, "apitokend");
    }
    if (global.json) {
        std::cout << json{{"running", true},
                          {"version", status.version},
                          {"token_count",
                           status.token_count_known ? json(status.token_count) : json(nullptr)},
                          {"max_lifetime_seconds",
                           status.max_lifetime == 0 ? json(nullptr) : json(status.max_lifetime)},
                          {"fleet", fleet_json(status.fleet)},
                          {"connection", client.direct() ? "direct" : "bus"},
                          {"direct_socket",
                           client.direct() ? json(client.direct_socket()) : json(nullptr)}}
                         .dump(2)
                  << '\n';
        return kExitOk;
    }
    std::cout << "apitokend " << status.version << " is running\n"
              << "tokens:        "
              << (status.token_count_known ? std::to_string(status.token_count)
                                           : std::string("(shown to root and the admin group)"))
              << '\n'
              << "max lifetime:  "
              << (status.max_lifetime == 0 ? std::string("unlimited")
                                           : exact_span_text(status.max_lifetime))
              << '\n'
              << "connection:    "
              << (client.direct() ? "direct socket " + client.direct_socket()
                                  : std::string("system bus"))
              << '\n'
              << fleet_text(fleet_json(status.fleet));
    return kExitOk;
}

} // namespace apitoken::cli
