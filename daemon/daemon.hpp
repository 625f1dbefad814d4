#pragma once

#include <filesystem>
#include <optional>

namespace apitoken::daemon {

struct DaemonOptions {
    std::filesystem::path config_path;
    bool config_given = false; // --config: then the file must exist
    std::optional<std::filesystem::path> state_dir;
    bool debug = false;
};

// Exit codes of apitokend (documented in --help and apitokend(8)).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1; // could not start or lost the bus
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 78; // EX_CONFIG: systemd won't restart on it

// Runs apitokend until SIGTERM/SIGINT or the bus goes away; returns the exit code.
int run_daemon(const DaemonOptions& options);

} // namespace apitoken::daemon
