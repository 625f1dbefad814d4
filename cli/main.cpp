// apitokenctl: create, list, revoke and rename API tokens (see apitokenctl(1)).
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/time_text.hpp"
#include "ipc/bus_client.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#ifndef APITOKEN_VERSION
#define APITOKEN_VERSION "unknown"
#endif

namespace {

using namespace apitoken::cli;

constexpr const char* kDescription = R"(apitokenctl - manage API tokens for PAM services

An API token stands in for your password in scripts and automation (SFTP
uploads, IMAP, a web app behind PAM). Each token is shown once, stored only
as a hash, and can be revoked on its own at any time.)";

constexpr const char* kFooter = R"(
Examples:
  TOKEN=$(apitokenctl create ci-upload --expires=90d --service=sshd)
  apitokenctl list
  apitokenctl revoke 0123456789ab
  sudo apitokenctl list --user=alice --json

Exit status: 0 done, 1 refused or failed (the message says why), 2 usage error.
See apitokenctl(1).)";

// The bus call deadline: generous for a human, still bounded.
constexpr std::chrono::seconds kCallTimeout{25};

struct Arguments {
    GlobalOptions global;
    CreateOptions create;
    std::string expires;
    std::string user;
    std::vector<std::string> ids;
    bool all = false;
    std::string rename_id;
    std::string rename_name;
};

CLI::Option* add_user_option(CLI::App* command, std::string& user) {
    return command
        ->add_option("--user", user, "act on USER's tokens (root or the admin group only)")
        ->type_name("USER");
}

void define_create(CLI::App& app, Arguments& a) {
    auto* create = app.add_subcommand(
        "create", "create a token; prints it once, alone on stdout's first line");
    create
        ->add_option("NAME", a.create.name,
                     "a name for the token, unique among yours (1-64 characters)")
        ->required();
    create
        ->add_option("--expires", a.expires,
                     "when it stops working: a duration (90d, 12h, 2w), a date (2027-01-31, "
                     "00:00 local time), an RFC 3339 time, or never (default: the daemon's "
                     "default lifetime)")
        ->type_name("WHEN");
    create
        ->add_option(
            "--service", a.create.services,
            "accept the token only for this PAM service (repeat for several; default: any)")
        ->type_name("SVC")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    add_user_option(create, a.user);
}

void define_commands(CLI::App& app, Arguments& a) {
    define_create(app, a);
    auto* list = app.add_subcommand(
        "list", "list tokens (never their secrets): ID, name, times, uses, services");
    add_user_option(list, a.user);

    auto* revoke =
        app.add_subcommand("revoke", "revoke tokens by id, or all of a user's tokens with --all");
    revoke->add_option("ID", a.ids, "token ids as shown by list (12 hex digits)");
    revoke->add_flag("--all", a.all, "revoke every token of the user");
    add_user_option(revoke, a.user);

    auto* rename = app.add_subcommand("rename", "give a token a new name");
    rename->add_option("ID", a.rename_id, "token id")->required();
    rename->add_option("NEW_NAME", a.rename_name, "the new name")->required();
    add_user_option(rename, a.user);

    app.add_subcommand("status",
                       "show whether apitokend runs, its version and the number of tokens");
}

int dispatch(CLI::App& app, Arguments& a) {
    apitoken::ipc::Client client(kCallTimeout);
    if (app.got_subcommand("create")) {
        a.create.user = a.user;
        if (!a.expires.empty()) {
            std::string error;
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            const auto expires = parse_expiry(a.expires, now, error);
            if (!expires) {
                std::cerr << "apitokenctl: " << error << '\n';
                return kExitUsage;
            }
            a.create.expires = *expires;
        }
        return run_create(client, a.global, a.create);
    }
    if (app.got_subcommand("list")) {
        return run_list(client, a.global, a.user);
    }
    if (app.got_subcommand("revoke")) {
        if (a.all == !a.ids.empty()) {
            std::cerr << "apitokenctl: revoke takes token ids or --all (not both, not neither)\n";
            return kExitUsage;
        }
        return a.all ? run_revoke_all(client, a.global, a.user)
                     : run_revoke(client, a.global, a.user, a.ids);
    }
    if (app.got_subcommand("rename")) {
        return run_rename(client, a.global, a.user, a.rename_id, a.rename_name);
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
