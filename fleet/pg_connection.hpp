#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace apitoken::fleet {

// A failure talking to PostgreSQL. `lost` when the connection is gone (the
// server unreachable, stopped, silent past the deadline, or it dropped us):
// try again later. Else the server refused the statement (permissions,
// constraints, a schema that is not what we expect).
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

// One libpq connection. Every wait on the server is bounded on our side:
// the connect by connect_timeout, each statement by `timeout` (with
// poll(), so that a server that stops answering — SIGSTOP, a dead peer
// whose kernel still acknowledges, a lock held elsewhere — costs at most
// that; the server's own statement_timeout and lock_timeout are set too).
// Past it the connection is dropped (lost). A wait also ends, the same
// way, as soon as `abandon_fd` (when given) becomes readable: a daemon that
// stops does not wait out a silent server. Not thread-safe.
class PgConnection {
public:
    // Connects with `conninfo` (a libpq key=value string or URI) within
    // `timeout`. Our defaults come first, so the admin's conninfo overrides
    // them. Throws PgError(lost) when the server cannot be reached or
    // refuses the login.
    PgConnection(const std::string& conninfo, std::chrono::seconds timeout, int abandon_fd = -1);

    // Runs one statement; returns its rows (or nothing). Throws PgError.
    PgResult exec(const std::string& sql, const std::vector<PgParam>& params = {});
    // Runs several statements without parameters (schema scripts).
    void run_script(const std::string& sql);
    // The value of row `row`, column `column` ("" for NULL).
    [[nodiscard]] static std::string value(const PgResult& result, int row, int column);

    // A deadline for every statement from now on (the tighter of it and
    // the timeout); nullopt: the timeout alone.
    void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
        deadline_ = deadline;
    }

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
    void connect(std::chrono::steady_clock::time_point deadline);
    PgResult wait_for_result();
    void wait_for_socket(short events, std::chrono::steady_clock::time_point deadline);
    [[noreturn]] void fail(const PGresult* result) const;

    std::unique_ptr<PGconn, Finish> conn_;
    std::chrono::seconds timeout_;
    int abandon_fd_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// Runs BEGIN, then `body`, then COMMIT; ROLLBACK when `body` throws.
template <typename Body>
void in_transaction(PgConnection& pg, const std::string& begin, Body&& body) {
    pg.exec(begin);
    try {
        body();
    } catch (...) {
        try {
            if (pg.usable()) {
                pg.exec("ROLLBACK");
            }
        } catch (const PgError&) { // NOLINT(bugprone-empty-catch): the first error says why
        }
        throw;
    }
    pg.exec("COMMIT");
}

} // namespace apitoken::fleet
