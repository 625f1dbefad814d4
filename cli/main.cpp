// apitokenctl: create, show, update, rotate, list and revoke API tokens,
// scan for leaked ones and import Jenkins' (see apitokenctl(1)).
#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/output.hpp"
#include "cli/time_text.hpp"
#include "cli/token_settings.hpp"
#include "ipc/bus_client.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#ifndef APITOKEN_VERSION
#define APITOKEN_VERSION "unknown"
#endif

namespace {

using namespace apitoken::cli;
using apitoken::ipc::Client;

constexpr const char* kDescription = R"(apitokenctl - manage API tokens for PAM services

An API token stands in for your password in scripts and automation (SFTP
uploads, IMAP, a web app behind PAM). Each token is shown once, stored only
as a hash, and can be revoked on its own at any time.)";

constexpr const char* kFooter = R"(
Examples:
  TOKEN=$(apitokenctl create ci-upload --expires=90d --service=sshd)
  apitokenctl list
  apitokenctl show 0123456789ab
  NEW=$(apitokenctl rotate 0123456789ab --grace=1d)
  apitokenctl revoke 0123456789ab
  sudo apitokenctl list --all-users --json
  git diff --cached | apitokenctl scan -
  sudo apitokenctl import-jenkins /var/lib/jenkins --dry-run

Each command has its own --help with examples (apitokenctl create --help).
Exit status: 0 done, 1 refused or failed (the message says why), 2 usage error
(scan: 1 a live token found, 3 apitokend could not say; see scan --help).
See apitokenctl(1).)";

// The bus call deadline: generous for a human, still bounded.
constexpr std::chrono::seconds kCallTimeout{25};

// Whether the command has the option and it was given.
bool given(const CLI::App& command, const std::string& name) {
    const CLI::Option* option = command.get_option_no_throw(name);
    return option != nullptr && option->count() > 0;
}

// A DURATION option's seconds into `out` when given; false after a usage
// error (printed).
bool take_span(const CLI::App& command, const std::string& option, const std::string& text,
               bool allow_zero, std::optional<std::int64_t>& out) {
    if (!given(command, option)) {
        return true;
    }
    std::string error;
    out = parse_span(text, option, allow_zero, error);
    if (!out) {
        static_cast<void>(usage_error(error));
        return false;
    }
    return true;
}

bool take_expiry(const CLI::App& command, const std::string& text,
                 std::optional<std::int64_t>& out) {
    if (!given(command, "--expires")) {
        return true;
    }
    std::string error;
    out = parse_expiry(text, now_seconds(), error);
    if (!out) {
        static_cast<void>(usage_error(error));
        return false;
    }
    return true;
}

// What the words of create and update set; nullopt after a usage error
// (printed).
std::optional<TokenSettings> settings_of(const CLI::App& command, const Arguments& a) {
    TokenSettings s;
    if (!take_expiry(command, a.expires, s.expires)) {
        return std::nullopt;
    }
    if (given(command, "--max-uses")) {
        std::string error;
        s.max_uses = parse_max_uses(a.max_uses, error);
        if (!s.max_uses) {
            static_cast<void>(usage_error(error));
            return std::nullopt;
        }
    }
    if (given(command, "--name")) {
        s.name = a.name;
    }
    if (given(command, "--description") || a.no_description) {
        s.description = a.no_description ? std::string() : a.description;
    }
    // A list option replaces the whole list; --any-* clears it.
    const auto list = [&](const char* option, const std::vector<std::string>& values,
                          bool any) -> std::optional<std::vector<std::string>> {
        if (any) {
            return std::vector<std::string>{};
        }
        return given(command, option) ? std::optional(values) : std::nullopt;
    };
    s.services = list("--service", a.services, a.any_service);
    s.sources = list("--from", a.sources, a.any_source);
    s.hosts = list("--host", a.hosts, a.any_host);
    return s;
}

int create_command(Client& client, const CLI::App& command, Arguments& a) {
    auto settings = settings_of(command, a);
    if (!settings) {
        return kExitUsage;
    }
    return run_create(client, a.global, {a.name, a.user, std::move(*settings)});
}

int update_command(Client& client, const CLI::App& command, Arguments& a) {
    auto settings = settings_of(command, a);
    if (!settings) {
        return kExitUsage;
    }
    if (settings_dictionary(*settings).empty()) {
        return usage_error(
            "update: nothing to change: give --name, --description, --expires, "
            "--service, --from, --host, --any-* or --no-description (see apitokenctl update "
            "--help)");
    }
    return run_update(client, a.global, {a.id, a.user, std::move(*settings)});
}

int rotate_command(Client& client, const CLI::App& command, Arguments& a) {
    RotateOptions options{a.id, a.user};
    std::optional<std::int64_t> grace;
    if (!take_span(command, "--grace", a.grace, true, grace) ||
        !take_expiry(command, a.expires, options.expires)) {
        return kExitUsage;
    }
    options.grace = grace.value_or(0);
    return run_rotate(client, a.global, options);
}

int list_command(Client& client, const CLI::App& command, Arguments& a) {
    ListOptions options{a.user, {.all_users = a.all_users}};
    if (!take_span(command, "--expiring", a.expiring, false, options.filter.expiring_within) ||
        !take_span(command, "--unused", a.unused, false, options.filter.unused_for)) {
        return kExitUsage;
    }
    return run_list(client, a.global, options);
}

int revoke_command(Client& client, const CLI::App& command, Arguments& a) {
    const bool unused = given(command, "--unused");
    const int ways = static_cast<int>(!a.ids.empty()) + static_cast<int>(a.all) +
                     static_cast<int>(unused) + static_cast<int>(a.expired);
    if (ways != 1) {
        return usage_error("revoke takes token ids, --all, --unused=DURATION or --expired: "
                           "exactly one of them");
    }
    if (!unused && !a.expired) {
        if (a.dry_run || a.all_users) {
            return usage_error("--dry-run and --all-users go with --unused or --expired");
        }
        return a.all ? run_revoke_all(client, a.global, a.user)
                     : run_revoke(client, a.global, a.user, a.ids);
    }
    BulkRevokeOptions options{
        a.user, {.expired = a.expired, .all_users = a.all_users, .dry_run = a.dry_run}};
    if (!take_span(command, "--unused", a.unused, false, options.filter.unused_for)) {
        return kExitUsage;
    }
    return run_bulk_revoke(client, a.global, options);
}

int dispatch(CLI::App& app, Arguments& a) {
    const CLI::App* command = app.get_subcommands().front();
    const std::string& name = command->get_name();
    if (name == "scan") { // connects only once the scan found tokens
        return run_scan(a.global, a.scan, kCallTimeout);
    }
    Client client(kCallTimeout, a.global.transport());
    if (name == "create") {
        return create_command(client, *command, a);
    }
    if (name == "update") {
        return update_command(client, *command, a);
    }
    if (name == "rotate") {
        return rotate_command(client, *command, a);
    }
    if (name == "list") {
        return list_command(client, *command, a);
    }
    if (name == "show") {
        return run_show(client, a.global, a.user, a.id);
    }
    if (name == "revoke") {
        return revoke_command(client, *command, a);
    }
    if (name == "import-jenkins") {
        return run_import_jenkins(client, a.global, a.import_jenkins);
    }
    if (name == "rename") {
        return run_rename(client, a.global, a.user, a.id, a.new_name);
    }
    return run_status(client, a.global);
}

int run(int argc, char** argv) {
    CLI::App app(kDescription, "apitokenctl");
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("apitokenctl ") + APITOKEN_VERSION);
    app.require_subcommand(1, 1);
    app.fallthrough(); // --json may follow the subcommand
    Arguments a;
    app.add_flag("--json", a.global.json, "machine-readable output (JSON, RFC 3339 times)");
    app.add_flag("--bus-only", a.global.bus_only,
                 "talk to apitokend over the system bus only, not its direct socket "
                 "(/run/apitoken/socket, or $APITOKEN_SOCKET); `status` says which was used");
    define_commands(app, a);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? kExitOk : kExitUsage;
    }
    return dispatch(app, a);
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "apitokenctl: " << error.what() << '\n';
        return kExitFailed;
    }
}
