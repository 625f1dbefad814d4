#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace apitoken::fleet {

// A failure talking to PostgreSQL. `lost` when the connection is gone (the
// server unreachable, stopped, or it dropped us): try again later. Else the
// server refused the statement (permissions, constraints, a schema that is
// not what we expect): retrying the same thing will not help.
class PgError : public std::runtime_error {
public:
    PgError(const std::string& message, bool lost) : std::runtime_error(message), lost_(lost) {}
    [[nodiscard]] bool lost() const noexcept { return lost_; }

private:
    bool lost_;
};

struct PgResultFree {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

// A NULL or a text parameter.
using PgParam = std::optional<std::string>;

// One libpq connection, blocking (used on fleet threads and, for writes,
// bounded by the connection's timeouts). Not thread-safe.
class PgConnection {
public:
    // Connects with `conninfo` (a libpq key=value string or URI). Our
    // defaults (connect_timeout, keepalives, application_name) come first,
    // so the admin's conninfo overrides them. Throws PgError(lost) when the
    // server cannot be reached or refuses the login.
    explicit PgConnection(const std::string& conninfo);

    // Runs one statement; returns its rows (or nothing). Throws PgError.
    PgResult exec(const std::string& sql, const std::vector<PgParam>& params = {});
    // Runs several statements without parameters (schema scripts).
    void run_script(const std::string& sql);
    // The value of row `row`, column `column` ("" for NULL).
    [[nodiscard]] static std::string value(const PgResult& result, int row, int column);

    // The socket, to wait for notifications on.
    [[nodiscard]] int socket() const noexcept;
    // Reads what the server sent; the payloads of the notifications that
    // arrived. Throws PgError(lost) when the connection is gone.
    std::vector<std::string> notifications();
    [[nodiscard]] bool usable() const noexcept;

private:
    struct Finish {
        void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
    };
    [[noreturn]] void fail(const std::string& what, const PGresult* result) const;

    std::unique_ptr<PGconn, Finish> conn_;
};

// Runs BEGIN, then `body`, then COMMIT; ROLLBACK when `body` throws.
template <typename Body>
void in_transaction(PgConnection& pg, const std::string& begin, Body&& body) {
    pg.exec(begin);
    try {
        body();
    } catch (...) {
        try {
            pg.exec("ROLLBACK");
        } catch (const PgError&) { // NOLINT(bugprone-empty-catch): the first error says why
        }
        throw;
    }
    pg.exec("COMMIT");
}

} // namespace apitoken::fleet
