#pragma once

#include "ipc/bus_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace apitoken::cli {

struct GlobalOptions {
    bool json = false;
};

struct CreateOptions {
    std::string name;
    std::string user;
    std::int64_t expires = 0; // as CreateToken takes it
    std::vector<std::string> services;
};

// Each subcommand: one or more calls, output on stdout, errors on stderr.
// Returns the exit status.
int run_create(ipc::Client& client, const GlobalOptions& global, const CreateOptions& options);
int run_list(ipc::Client& client, const GlobalOptions& global, const std::string& user);
int run_revoke(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::vector<std::string>& ids);
int run_revoke_all(ipc::Client& client, const GlobalOptions& global, const std::string& user);
int run_rename(ipc::Client& client, const GlobalOptions& global, const std::string& user,
               const std::string& id, const std::string& name);
int run_status(ipc::Client& client, const GlobalOptions& global);

} // namespace apitoken::cli
