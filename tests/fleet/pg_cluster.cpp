#include "tests/fleet/pg_cluster.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace apitoken::testing {
namespace {

constexpr std::string_view kPgBin = "/usr/lib/postgresql/15/bin/";

std::string pg_program(std::string_view name) {
    return std::string(kPgBin) + std::string(name);
}

void require_ok(const ProcessResult& r, const std::string& what) {
    if (r.exit_code != 0) {
        throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) +
                                 "): " + r.out + r.err);
    }
}

} // namespace

PgCluster::PgCluster() : dir_("apitoken-pg") {
    // The daemons (another uid) reach the socket through this directory.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    require_ok(run_process({"chown", "postgres:postgres", dir_.path().string()}), "chown");
    require_ok(as_postgres({pg_program("initdb"), "-D", (dir_.path() / "data").string(),
                            "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8"}),
               "initdb");
    start();
}

PgCluster::~PgCluster() {
    try {
        stop();
    } catch (...) { // NOLINT(bugprone-empty-catch): nothing to do in a destructor
    }
}

bool PgCluster::available() {
    return ::access((pg_program("initdb")).c_str(), X_OK) == 0;
}

ProcessResult PgCluster::as_postgres(const std::vector<std::string>& argv) {
    std::vector<std::string> full{"runuser", "-u", "postgres", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return run_process(full, {}, std::chrono::seconds(120));
}

void PgCluster::start() {
    const std::string options = "-c listen_addresses='' -c unix_socket_directories='" +
                                dir_.path().string() + "' -c fsync=off -c track_functions=all";
    require_ok(
        as_postgres({pg_program("pg_ctl"), "-D", (dir_.path() / "data").string(), "-o", options,
                     "-l", (dir_.path() / "server.log").string(), "-w", "-t", "120", "start"}),
        "pg_ctl start");
    running_ = true;
}

void PgCluster::stop() {
    if (!running_) {
        return;
    }
    require_ok(as_postgres({pg_program("pg_ctl"), "-D", (dir_.path() / "data").string(), "-m",
                            "fast", "-w", "-t", "120", "stop"}),
               "pg_ctl stop");
    running_ = false;
}

namespace {

void signal_server(const std::filesystem::path& data, const std::string& signal) {
    std::ifstream pid_file(data / "postmaster.pid");
    std::string pid;
    std::getline(pid_file, pid);
    require_ok(run_process({"pkill", "-" + signal, "-P", pid}), "pkill children");
    require_ok(run_process({"kill", "-" + signal, pid}), "kill");
}

} // namespace

void PgCluster::freeze() const {
    signal_server(dir_.path() / "data", "STOP");
}

void PgCluster::thaw() const {
    signal_server(dir_.path() / "data", "CONT");
}

std::string PgCluster::conninfo(const std::string& role) const {
    return "host=" + dir_.path().string() + " dbname=postgres user=" + role;
}

ProcessResult PgCluster::psql(const std::string& sql, const std::string& role) const {
    return as_postgres({pg_program("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h",
                        dir_.path().string(), "-U", role, "-d", "postgres", "-c", sql});
}

} // namespace apitoken::testing
