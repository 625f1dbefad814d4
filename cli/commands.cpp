#include "cli/commands.hpp"

#include "cli/exit_status.hpp"
#include "cli/failure_message.hpp"
#include "cli/time_text.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace apitoken::cli {
namespace {

using nlohmann::json;

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int fail(const ipc::Outcome& outcome, const std::string& subject) {
    std::cerr << "apitokenctl: " << failure_message(outcome, subject) << '\n';
    return kExitFailed;
}

std::string whose(const std::string& user) {
    return user.empty() ? "your tokens" : user + "'s tokens";
}

json optional_time(std::int64_t t) {
    return t == 0 ? json(nullptr) : json(rfc3339(t));
}

json optional_text(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

// The documented machine form of a token (see apitokenctl(1), "JSON OUTPUT").
json token_json(const ipc::TokenInfo& t, std::int64_t now) {
    return {{"id", t.id},
            {"name", t.name},
            {"created", rfc3339(t.created)},
            {"expires", optional_time(t.expires)},
            {"expired", t.expires != 0 && t.expires <= now},
            {"last_used", optional_time(t.last_used)},
            {"use_count", t.use_count},
            {"last_service", optional_text(t.last_service)},
            {"last_rhost", optional_text(t.last_rhost)},
            {"services", t.services}};
}

std::string services_text(const std::vector<std::string>& services) {
    if (services.empty()) {
        return "any";
    }
    std::string out;
    for (const auto& s : services) {
        out += (out.empty() ? "" : ",") + s;
    }
    return out;
}

// Prints rows with each column as wide as its widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - row[i].size() + 2, ' ');
            }
        }
        std::cout << line << '\n';
    }
}

// The token goes to stdout straight from its wiped buffer, never through a
// std::string or a JSON value that would leave a copy behind.
void write_secret(std::string_view token) {
    std::cout.flush();
    static_cast<void>(std::fwrite(token.data(), 1, token.size(), stdout));
}

void print_created_json(const ipc::CreatedToken& created, const std::string& name) {
    const json rest{{"id", created.id},
                    {"name", name},
                    {"created", rfc3339(created.created)},
                    {"expires", optional_time(created.expires)}};
    std::cout << R"({"token":")";
    write_secret(created.token.view());
    std::cout << R"(",)" << rest.dump().substr(1) << '\n';
}

} // namespace

int run_create(ipc::Client& client, const GlobalOptions& global, const CreateOptions& options) {
    ipc::CreatedToken created;
    const ipc::Outcome outcome =
        client.create_token(options.user, options.name, options.expires, options.services, created);
    if (!outcome.ok()) {
        return fail(outcome, "token \"" + options.name + "\"");
    }
    if (global.json) {
        print_created_json(created, options.name);
    } else {
        write_secret(created.token.view());
        std::cout << '\n';
    }
    std::cout.flush();
    if (::isatty(STDERR_FILENO) == 1) {
        std::cerr << "Token \"" << options.name << "\" (id " << created.id << ") created, expires "
                  << (created.expires == 0 ? "never" : rfc3339(created.expires))
                  << ". Store it now: it will not be shown again.\n";
    }
    return kExitOk;
}

int run_list(ipc::Client& client, const GlobalOptions& global, const std::string& user) {
    std::vector<ipc::TokenInfo> tokens;
    const ipc::Outcome outcome = client.list_tokens(user, tokens);
    if (!outcome.ok()) {
        return fail(outcome, whose(user));
    }
    std::sort(tokens.begin(), tokens.end(), [](const auto& a, const auto& b) {
        return std::tie(a.created, a.id) < std::tie(b.created, b.id);
    });
    const std::int64_t now = now_seconds();
    if (global.json) {
        json list = json::array();
        for (const auto& t : tokens) {
            list.push_back(token_json(t, now));
        }
        std::cout << json{{"tokens", list}}.dump(2) << '\n';
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows{
        {"ID", "NAME", "CREATED", "EXPIRES", "LAST USED", "USES", "SERVICES"}};
    for (const auto& t : tokens) {
        rows.push_back({t.id, t.name, relative_time(t.created, now), expiry_text(t.expires, now),
                        t.last_used == 0 ? "never" : relative_time(t.last_used, now),
                        std::to_string(t.use_count), services_text(t.services)});
    }
    print_table(rows);
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
            status = fail(outcome, "token " + id);
            failed.push_back({{"id", id}, {"error", failure_message(outcome, "token " + id)}});
        }
    }
    if (global.json) {
        std::cout << json{{"revoked", revoked}, {"failed", failed}}.dump(2) << '\n';
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
        return fail(outcome, "token " + id);
    }
    if (global.json) {
        std::cout << json{{"id", id}, {"name", name}}.dump(2) << '\n';
    } else {
        std::cout << "renamed " << id << " to \"" << name << "\"\n";
    }
    return kExitOk;
}

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
                           status.max_lifetime == 0 ? json(nullptr) : json(status.max_lifetime)}}
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
              << '\n';
    return kExitOk;
}

} // namespace apitoken::cli
