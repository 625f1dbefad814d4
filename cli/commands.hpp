#pragma once

#include "cli/token_settings.hpp"
#include "ipc/bus_client.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::cli {

struct GlobalOptions {
    bool json = false;
    bool bus_only = false; // the system bus even where the direct socket is
    [[nodiscard]] ipc::Client::Transport transport() const noexcept {
        return bus_only ? ipc::Client::Transport::BusOnly : ipc::Client::Transport::DirectFirst;
    }
};

struct CreateOptions {
    std::string name;
    std::string user;
    TokenSettings settings; // everything but the name
};

struct UpdateOptions {
    std::string id;
    std::string user;
    TokenSettings settings; // what to change; at least one member set
};

struct RotateOptions {
    std::string id;
    std::string user;
    std::int64_t grace = 0; // seconds the old token keeps working
    std::optional<std::int64_t> expires{};
};

struct ListOptions {
    std::string user;
    ListFilter filter;
};

struct BulkRevokeOptions {
    std::string user;
    RevokeFilter filter; // unused_for or expired
};

struct ScanOptions {
    std::vector<std::string> paths; // "-": standard input; none: standard input unless a tty
    bool revoke = false;
    bool offline = false;
    bool git_objects = false;
};

struct ImportJenkinsOptions {
    std::string home;                  // JENKINS_HOME
    std::string user_map;              // --user-map FILE; empty: each Jenkins id as it is
    std::vector<std::string> services; // --service, for every token imported
    bool dry_run = false;
};

// Each subcommand: one or more calls, output on stdout, errors on stderr.
// Returns the exit status.
// commands.cpp
int run_create(ipc::Client& client, const GlobalOptions& global, const CreateOptions& options);
int run_revoke(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::vector<std::string>& ids);
int run_revoke_all(ipc::Client& client, const GlobalOptions& global, const std::string& user);
int run_rename(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::string& id, const std::string& name);
int run_status(ipc::Client& client, const GlobalOptions& global);
// commands_list.cpp
// One token of `user` by id (ListTokensEx; no daemon call filters by id):
// `found` stays empty when the user has no such token.
ipc::Outcome find_token(ipc::Client& client, const std::string& user, const std::string& id,
                        std::optional<ipc::TokenInfo>& found);
int run_list(ipc::Client& client, const GlobalOptions& global, const ListOptions& options);
int run_show(ipc::Client& client, const GlobalOptions& global, const std::string& user,
             const std::string& id);
// commands_policy.cpp
int run_update(ipc::Client& client, const GlobalOptions& global, const UpdateOptions& options);
int run_rotate(ipc::Client& client, const GlobalOptions& global, const RotateOptions& options);
int run_bulk_revoke(ipc::Client& client, const GlobalOptions& global,
                    const BulkRevokeOptions& options);
// commands_scan.cpp: connects to apitokend (each call bounded by
// `call_timeout`) only after the scan, and only when it found tokens.
int run_scan(const GlobalOptions& global, const ScanOptions& options,
             std::chrono::microseconds call_timeout);
// commands_import.cpp: usage errors (exit 2) for an unreadable or malformed
// --user-map and a JENKINS_HOME that is not a directory.
int run_import_jenkins(ipc::Client& client, const GlobalOptions& global,
                       const ImportJenkinsOptions& options);

} // namespace apitoken::cli
