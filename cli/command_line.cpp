#include "cli/command_line.hpp"

namespace apitoken::cli {
namespace {

constexpr const char* kWhenHelp =
    "a duration (90d, 12h, 2w), a date (2027-01-31, 00:00 local time), an RFC 3339 time, or "
    "never";

CLI::Option* add_user_option(CLI::App* command, std::string& user) {
    return command
        ->add_option("--user", user, "act on USER's tokens (root or the admin group only)")
        ->type_name("USER");
}

CLI::Option* add_list_option(CLI::App* command, const std::string& name,
                             std::vector<std::string>& values, const std::string& help,
                             const std::string& type) {
    return command->add_option(name, values, help)
        ->type_name(type)
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// --service, --from and --host, shared by create and update.
void add_scope_options(CLI::App* command, Arguments& a) {
    add_list_option(command, "--service", a.services,
                    "accept the token only for this PAM service (repeat for several; default: "
                    "any)",
                    "SVC");
    add_list_option(command, "--from", a.sources,
                    "accept the token only when PAM_RHOST is an address in this network, e.g. "
                    "10.0.0.0/8 or 2001:db8::/32 (repeat for several; default: anywhere)",
                    "CIDR");
    add_list_option(command, "--host", a.hosts,
                    "fleet mode: valid only on hosts whose name matches this glob (repeat for "
                    "several; default: every host)",
                    "GLOB");
    command->add_option("--description", a.description, "free text, up to 256 characters")
        ->type_name("TEXT");
}

void define_create(CLI::App& app, Arguments& a) {
    auto* create = app.add_subcommand(
        "create", "create a token; prints it once, alone on stdout's first line");
    create->add_option("NAME", a.name, "a name for the token, unique among yours (1-64 characters)")
        ->required();
    create
        ->add_option("--expires", a.expires,
                     std::string("when it stops working: ") + kWhenHelp +
                         " (default: the daemon's default lifetime)")
        ->type_name("WHEN");
    add_scope_options(create, a);
    create
        ->add_option("--max-uses", a.max_uses,
                     "the token works N times, then never again (1 to 1000000000; 1: a one-time "
                     "token; default: no limit)")
        ->type_name("N");
    add_user_option(create, a.user);
    create->footer(R"(
Examples:
  TOKEN=$(apitokenctl create ci-upload --expires=90d --service=sshd)
  apitokenctl create backup --from=192.0.2.0/24 --from=2001:db8::/32 --description="nightly backup"
  apitokenctl create once --max-uses=1 --expires=1d
  sudo apitokenctl create deploy --user=alice --json)");
}

void define_update(CLI::App& app, Arguments& a) {
    auto* update = app.add_subcommand(
        "update", "change a token's name, description, scope or expiry (never its secret)");
    update->add_option("ID", a.id, "token id as shown by list (12 hex digits)")->required();
    update->add_option("--name", a.name, "a new name")->type_name("NAME");
    update->add_option("--expires", a.expires, std::string("a new expiry: ") + kWhenHelp)
        ->type_name("WHEN");
    add_scope_options(update, a);
    // Each list option replaces the whole list; these clear it.
    update->add_flag("--any-service", a.any_service, "accept the token for any PAM service")
        ->excludes(update->get_option("--service"));
    update->add_flag("--any-source", a.any_source, "accept the token from anywhere (no --from)")
        ->excludes(update->get_option("--from"));
    update->add_flag("--any-host", a.any_host, "fleet mode: valid on every host")
        ->excludes(update->get_option("--host"));
    update->add_flag("--no-description", a.no_description, "remove the description")
        ->excludes(update->get_option("--description"));
    add_user_option(update, a.user);
    update->footer(R"(
--service, --from and --host replace the whole list; --any-service,
--any-source and --any-host clear it; --no-description removes the description.

Examples:
  apitokenctl update 0123456789ab --name=ci-upload-2 --expires=30d
  apitokenctl update 0123456789ab --service=sshd --service=vsftpd
  apitokenctl update 0123456789ab --any-source --no-description)");
}

void define_rotate(CLI::App& app, Arguments& a) {
    auto* rotate = app.add_subcommand(
        "rotate", "replace a token by a new one with the same settings; prints the new one once");
    rotate->add_option("ID", a.id, "token id as shown by list (12 hex digits)")->required();
    rotate
        ->add_option("--grace", a.grace,
                     "how long the old token keeps working (90m, 1d, ...; default 0: it stops "
                     "at once)")
        ->type_name("DURATION");
    rotate
        ->add_option("--expires", a.expires,
                     std::string("when the new token stops working: ") + kWhenHelp)
        ->type_name("WHEN");
    add_user_option(rotate, a.user);
    rotate->footer(R"(
The new token is printed alone on stdout's first line; which token it
replaces, and until when that one works, goes to stderr.

Examples:
  TOKEN=$(apitokenctl rotate 0123456789ab --grace=1d)
  apitokenctl rotate 0123456789ab --expires=90d --json)");
}

void define_reading(CLI::App& app, Arguments& a) {
    auto* list = app.add_subcommand(
        "list", "list tokens (never their secrets): ID, name, times, uses, services");
    auto* user = add_user_option(list, a.user);
    list->add_flag("--all-users", a.all_users,
                   "every user's tokens, with an OWNER column (root and the admin group only)")
        ->excludes(user);
    list->add_option("--expiring", a.expiring, "only tokens that expire within DURATION")
        ->type_name("DURATION");
    list->add_option("--unused", a.unused,
                     "only tokens not used (or never used) for DURATION or longer")
        ->type_name("DURATION");
    list->footer(R"(
Examples:
  apitokenctl list
  apitokenctl list --expiring=7d
  sudo apitokenctl list --all-users --unused=90d --json)");

    auto* show = app.add_subcommand(
        "show", "show everything about one token: scope, uses, recent sources, rotation");
    show->add_option("ID", a.id, "token id as shown by list (12 hex digits)")->required();
    add_user_option(show, a.user);
    show->footer(R"(
Examples:
  apitokenctl show 0123456789ab
  sudo apitokenctl show 0123456789ab --user=alice --json)");
}

void define_revoke(CLI::App& app, Arguments& a) {
    auto* revoke = app.add_subcommand(
        "revoke", "revoke tokens by id, all of a user's (--all), or unused or expired ones");
    revoke->add_option("ID", a.ids, "token ids as shown by list (12 hex digits)");
    revoke->add_flag("--all", a.all, "revoke every token of the user");
    revoke->add_option("--unused", a.unused, "revoke tokens not used (or never used) for DURATION")
        ->type_name("DURATION");
    revoke->add_flag("--expired", a.expired, "revoke tokens that have expired");
    auto* user = add_user_option(revoke, a.user);
    revoke
        ->add_flag("--all-users", a.all_users,
                   "with --unused or --expired: every user's tokens (root and the admin group "
                   "only)")
        ->excludes(user);
    revoke->add_flag("--dry-run", a.dry_run,
                     "with --unused or --expired: show what would be revoked, revoke nothing");
    revoke->footer(R"(
Examples:
  apitokenctl revoke 0123456789ab
  apitokenctl revoke --expired
  sudo apitokenctl revoke --unused=365d --all-users --dry-run)");
}

void define_scan(CLI::App& app, Arguments& a) {
    auto* scan = app.add_subcommand(
        "scan", "find leaked tokens in files, directories or standard input, and say which work");
    scan->add_option("PATH", a.scan.paths,
                     "files and directories (searched recursively) to scan; - for standard input "
                     "(the default when it is not a terminal)");
    auto* revoke = scan->add_flag(
        "--revoke", a.scan.revoke,
        "revoke every live token found, and every one that is not yours or unknown (whoever "
        "holds a whole token may revoke it; the daemon checks the secret)");
    scan->add_flag("--offline", a.scan.offline,
                   "do not ask apitokend (a CI runner or laptop without it): every token found "
                   "is unchecked, and any makes the exit status 1")
        ->excludes(revoke);
    scan->add_flag("--git-objects", a.scan.git_objects,
                   "also read .git/objects (skipped by default: git keeps it compressed)");
    scan->footer(R"(
Finds every token (atk_ + 52 lowercase hex digits whose checksum holds:
no false positives) and prints one line per place it was found:

  PATH:LINE:COLUMN: atk_<id>… STATE [USER/NAME]

never the secret. STATE is what apitokend says: live, revoked, expired, or
"not yours or unknown" for a token that is not yours (root and the admin
group see every token, with owner and name) or does not exist; "revoked
now" after --revoke; "unchecked" with --offline or when apitokend could
not answer. Directories are searched recursively without following
symbolic links in them; binary files (a NUL byte near the start) and
.git/objects are skipped. Unreadable files are reported on stderr and the
scan goes on.

Exit status: 0 no live token found; 1 a live token found (or revoked now
by --revoke; with --offline: any token found); 2 usage error, or something
could not be read and nothing live was found; 3 tokens found but apitokend
could not say what they are (not running, refused).

Examples:
  apitokenctl scan .
  git diff --cached -U0 | apitokenctl scan -
  apitokenctl scan --offline --json build-logs/
  apitokenctl scan --revoke /srv/shared)");
}

void define_import_jenkins(CLI::App& app, Arguments& a) {
    auto* import = app.add_subcommand(
        "import-jenkins",
        "import the API tokens of a Jenkins server: the same token strings keep working "
        "(root and the admin group only)");
    import
        ->add_option("JENKINS_HOME", a.import_jenkins.home,
                     "the Jenkins home directory (the one that holds users/), or a copy of it")
        ->required();
    import
        ->add_option("--user-map", a.import_jenkins.user_map,
                     "a file of \"JENKINS_ID LOCAL_USER\" lines (# comments); Jenkins users not "
                     "in it go to the local user of the same name")
        ->type_name("FILE");
    add_list_option(import, "--service", a.import_jenkins.services,
                    "accept every imported token only for this PAM service (repeat for several; "
                    "default: any)",
                    "SVC");
    import->add_flag("--dry-run", a.import_jenkins.dry_run,
                     "show what would be imported (and the names it would get), store nothing");
    import->footer(R"(
Reads users/*/config.xml (the user id from <id>, not the directory name) and
apiTokenStats.xml, and gives each Jenkins user's tokens to the local user of
the same name (or the one --user-map names; root, system accounts (uid below
UID_MIN of /etc/login.defs, 1000 by default) and nobody get tokens only
through a --user-map line, never because a Jenkins id has their name). Each
token keeps its Jenkins name (made unique if it clashes), creation time,
expiry, use count and last use, gets an apitoken id, and remembers its
Jenkins uuid: running the import again
imports nothing twice, and never brings back a token revoked since.
Legacy (pre-2.129, version 10) tokens are imported too; Jenkins users
without a local account and tokens expired in Jenkins are skipped and
reported. A file that is malformed or hostile (too big, too deep, entities,
wrong encoding) is reported by path and skipped whole. Jenkins keeps only a
SHA-256 of each token; apitoken keeps it until the token's first use, then
replaces it with an Argon2id hash. PAM accepts imported tokens only with the
module option jenkins_tokens (see pam_apitoken(8)); rotate turns one into a
native token.

One line per token: JENKINS_USER: "JENKINS NAME" → "NAME" (id ID): RESULT
(imported, already imported, would import, skipped: why, not imported:
why), then the problems found in files, then a summary.

Exit status: 0 everything importable was imported (or would be); 1 a file
could not be read or a user's import failed (the other users are still
imported), or apitokend is not running; 2 usage error (a malformed
--user-map line is named FILE:LINE).

Examples:
  sudo apitokenctl import-jenkins /var/lib/jenkins --dry-run
  sudo apitokenctl import-jenkins /var/lib/jenkins --service=nginx
  sudo apitokenctl import-jenkins /srv/jenkins-backup --user-map=/root/jenkins-users --json)");
}

} // namespace

void define_commands(CLI::App& app, Arguments& a) {
    define_create(app, a);
    define_reading(app, a);
    define_update(app, a);
    define_rotate(app, a);
    define_revoke(app, a);
    define_scan(app, a);
    define_import_jenkins(app, a);

    auto* rename = app.add_subcommand("rename", "give a token a new name");
    rename->add_option("ID", a.id, "token id")->required();
    rename->add_option("NEW_NAME", a.new_name, "the new name")->required();
    add_user_option(rename, a.user);

    app.add_subcommand("status",
                       "show whether apitokend runs, its version and the number of tokens");
}

} // namespace apitoken::cli
