// apitoken-test-call: one ipc::Client call per run, for the integration
// tests, which run it under setpriv as other uids. Prints one line:
//   ok [FIELDS...]          the call succeeded
//   refused NAME MESSAGE    the daemon answered io.apitoken1.Error.NAME
//   unavailable MESSAGE     no daemon / no bus / deadline passed
//   failed MESSAGE          anything else
// `list` prints "ok N" and then one line per token.
#include "ipc/bus_api.hpp"
#include "ipc/bus_client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
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
    std::cerr << "usage: apitoken-test-call [--timeout-ms=N] auth USER TOKEN SERVICE RHOST |\n"
                 "       create USER NAME EXPIRES [SERVICE...] | list USER | revoke USER ID |\n"
                 "       revoke-all USER | rename USER ID NAME | status\n";
    return 2;
}

int run(apitoken::ipc::Client& client, const std::vector<std::string>& a) {
    const std::string& verb = a.at(0);
    if (verb == "auth" && a.size() == 5) {
        std::string id;
        const Outcome o = client.authenticate(a[1], a[2], a[3], a[4], &id);
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
        std::vector<apitoken::ipc::TokenInfo> tokens;
        const Outcome o = client.list_tokens(a[1], tokens);
        print(o, std::to_string(tokens.size()));
        for (const auto& t : tokens) {
            std::cout << t.id << ' ' << t.name << ' ' << t.created << ' ' << t.expires << ' '
                      << t.last_used << ' ' << t.use_count << ' '
                      << (t.last_service.empty() ? "-" : t.last_service) << ' '
                      << (t.last_rhost.empty() ? "-" : t.last_rhost) << ' ' << join(t.services)
                      << '\n';
        }
        return 0;
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
