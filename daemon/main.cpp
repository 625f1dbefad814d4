// apitokend: the D-Bus service that owns the API tokens (see apitokend(8)).
#include "daemon/config.hpp"
#include "daemon/daemon.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#ifndef APITOKEN_VERSION
#define APITOKEN_VERSION "unknown"
#endif

namespace {

constexpr const char* kDescription = R"(apitokend - the service behind apitoken's API tokens

Owns io.apitoken1 on the system bus (and serves the same object on its direct
socket, /run/apitoken/socket) and answers pam_apitoken.so (Authenticate,
AuthenticateEx), apitokenctl and the Cockpit page (CreateToken[Ex],
ListTokens[Ex], UpdateToken, RotateToken, RenameToken, RevokeToken[s],
RevokeAllTokens, LookupTokens, RevokeLeakedTokens, ImportTokens). Tokens are kept in an LMDB store in the state directory, as
Argon2id hashes only. Normally started by systemd (apitokend.service) as the
unprivileged user "apitoken"; $DBUS_SYSTEM_BUS_ADDRESS selects another bus.)";

constexpr const char* kFooter = R"(
Exit status:
  0   stopped by SIGTERM or SIGINT (usage statistics written)
  1   could not start (state directory unusable or in use, no bus, name taken)
      or lost the bus
  2   usage error
  78  configuration error (file, line and key are named on stderr)

Files:
  /etc/apitoken/apitokend.conf   configuration (every key documented inside)
  /var/lib/apitoken              state directory (LMDB store, mode 0700)

See also: apitokenctl(1), pam_apitoken(8).)";

int run(int argc, char** argv) {
    using apitoken::daemon::DaemonOptions;
    CLI::App app(kDescription, "apitokend");
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("apitokend ") + APITOKEN_VERSION);

    DaemonOptions options;
    std::string config_path(apitoken::daemon::kDefaultConfigPath);
    std::string state_dir;
    auto* config_option = app.add_option("--config", config_path, "configuration file")
                              ->type_name("FILE")
                              ->capture_default_str();
    app.add_option("--state-dir", state_dir, "state directory (default /var/lib/apitoken)")
        ->type_name("DIR");
    app.add_flag("--debug", options.debug, "log every step (never a token)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : apitoken::daemon::kExitUsage;
    }
    options.config_path = config_path;
    options.config_given = config_option->count() > 0;
    if (!state_dir.empty()) {
        options.state_dir = state_dir;
    }
    return apitoken::daemon::run_daemon(options);
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "apitokend: " << error.what() << '\n';
        return apitoken::daemon::kExitFailure;
    }
}
