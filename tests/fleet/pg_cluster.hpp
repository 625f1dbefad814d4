#pragma once

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>

namespace apitoken::testing {

// A throw-away PostgreSQL 15 cluster (Debian's postgresql-15): initdb in a
// temporary directory, run as the "postgres" user, listening only on a
// Unix socket there, trusting local logins. Stopped and removed at the end.
class PgCluster {
public:
    PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;
    PgCluster(PgCluster&&) = delete;
    PgCluster& operator=(PgCluster&&) = delete;
    ~PgCluster();

    // Whether this machine has PostgreSQL 15 (tests skip otherwise).
    [[nodiscard]] static bool available();

    void start();
    void stop();
    // SIGSTOP / SIGCONT to the server and all its processes: a server that
    // accepts connections and never answers.
    void freeze() const;
    void thaw() const;
    // The libpq connection string of the database, as `role`.
    [[nodiscard]] std::string conninfo(const std::string& role = "postgres") const;
    // Runs SQL through psql as `role`; its output (tuples only).
    [[nodiscard]] ProcessResult psql(const std::string& sql,
                                     const std::string& role = "postgres") const;

private:
    static ProcessResult as_postgres(const std::vector<std::string>& argv);

    TempDir dir_;
    bool running_ = false;
};

} // namespace apitoken::testing
