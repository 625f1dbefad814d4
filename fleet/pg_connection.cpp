#include "fleet/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace apitoken::fleet {
namespace {

using Clock = std::chrono::steady_clock;

// A line of libpq's message, without its trailing newline.
std::string trimmed(const char* text) {
    std::string out = text != nullptr ? text : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

bool succeeded(const PGresult* result) {
    const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

} // namespace

PgConnection::PgConnection(const std::string& conninfo, std::chrono::seconds timeout,
                           int abandon_fd)
    : timeout_(std::max(timeout, std::chrono::seconds{2})), abandon_fd_(abandon_fd) {
    const std::string seconds = std::to_string(timeout_.count());
    const std::string milliseconds = std::to_string(timeout_.count() * 1000);
    const std::string options =
        "-c statement_timeout=" + milliseconds + " -c lock_timeout=" + milliseconds;
    // Keywords given before "dbname" are defaults that the expanded conninfo
    // overrides.
    const std::array<const char*, 8> keys{
        "connect_timeout", "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
        "options",         "application_name", "dbname",          nullptr};
    const std::array<const char*, 8> values{
        seconds.c_str(), milliseconds.c_str(), "10",   "5", options.c_str(),
        "apitokend",     conninfo.c_str(),     nullptr};
    conn_.reset(PQconnectStartParams(keys.data(), values.data(), 1));
    if (!conn_) {
        throw PgError("out of memory connecting to the fleet database", true);
    }
    connect(Clock::now() + timeout_);
    if (PQsetnonblocking(conn_.get(), 1) != 0) {
        conn_.reset();
        throw PgError("cannot make the fleet database connection non-blocking", true);
    }
}

// libpq's asynchronous connect, so that our waits bound it (its own
// connect_timeout does not apply to it, and would not see abandon_fd).
void PgConnection::connect(Clock::time_point deadline) {
    // Before the first PQconnectPoll, as if it had asked to write.
    auto state = PGRES_POLLING_WRITING;
    while (PQstatus(conn_.get()) != CONNECTION_BAD && state != PGRES_POLLING_OK &&
           state != PGRES_POLLING_FAILED) {
        wait_for_socket(state == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        state = PQconnectPoll(conn_.get());
    }
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        const std::string why = trimmed(PQerrorMessage(conn_.get()));
        conn_.reset();
        throw PgError(why, true);
    }
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
    if (!usable()) {
        throw PgError("the fleet database connection is closed", true);
    }
    std::vector<const char*> raw;
    raw.reserve(params.size());
    for (const auto& param : params) {
        raw.push_back(param ? param->c_str() : nullptr);
    }
    if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(raw.size()), nullptr,
                          raw.data(), nullptr, nullptr, 0) == 0) {
        fail(nullptr);
    }
    return wait_for_result();
}

void PgConnection::run_script(const std::string& sql) {
    if (!usable() || PQsendQuery(conn_.get(), sql.c_str()) == 0) {
        fail(nullptr);
    }
    static_cast<void>(wait_for_result());
}

// Sends what is buffered, then reads every result of the statement(s):
// the first failure, or else the last result.
PgResult PgConnection::wait_for_result() {
    const auto by_timeout = Clock::now() + timeout_;
    const auto deadline = deadline_ ? std::min(*deadline_, by_timeout) : by_timeout;
    for (int flushed = PQflush(conn_.get()); flushed != 0; flushed = PQflush(conn_.get())) {
        if (flushed < 0) {
            fail(nullptr);
        }
        wait_for_socket(POLLOUT | POLLIN, deadline);
        if (PQconsumeInput(conn_.get()) == 0) {
            fail(nullptr);
        }
    }
    PgResult kept;
    PgResult failed;
    for (;;) {
        while (PQisBusy(conn_.get()) != 0) {
            wait_for_socket(POLLIN, deadline);
            if (PQconsumeInput(conn_.get()) == 0) {
                fail(nullptr);
            }
        }
        PgResult next(PQgetResult(conn_.get()));
        if (!next) {
            break;
        }
        if (!succeeded(next.get()) && !failed) {
            failed = std::move(next);
        } else {
            kept = std::move(next);
        }
    }
    if (failed || !kept) {
        fail(failed.get());
    }
    return kept;
}

void PgConnection::wait_for_socket(short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            conn_.reset();
            throw PgError("the fleet database did not answer within " +
                              std::to_string(timeout_.count()) + " s",
                          true);
        }
        std::array<pollfd, 2> fds{pollfd{PQsocket(conn_.get()), events, 0},
                                  pollfd{abandon_fd_, POLLIN, 0}};
        const int r = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (r > 0 && fds[1].revents != 0) {
            conn_.reset();
            throw PgError("the wait for the fleet database was abandoned (stopping)", true);
        }
        if (r > 0) {
            return;
        }
        if (r < 0 && errno != EINTR) {
            conn_.reset();
            throw PgError("lost the fleet database connection", true);
        }
    }
}

void PgConnection::fail(const PGresult* result) const {
    const bool lost = !conn_ || PQstatus(conn_.get()) != CONNECTION_OK;
    std::string message = result != nullptr ? trimmed(PQresultErrorMessage(result)) : "";
    if (message.empty() && conn_) {
        message = trimmed(PQerrorMessage(conn_.get()));
    }
    throw PgError("the fleet database: " + message, lost);
}

std::string PgConnection::value(const PgResult& result, int row, int column) {
    if (PQgetisnull(result.get(), row, column) != 0) {
        return {};
    }
    return {PQgetvalue(result.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result.get(), row, column))};
}

int PgConnection::socket() const noexcept {
    return conn_ ? PQsocket(conn_.get()) : -1;
}

bool PgConnection::usable() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

std::vector<std::string> PgConnection::notifications() {
    if (!usable() || PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK) {
        throw PgError("lost the fleet database connection", true);
    }
    std::vector<std::string> payloads;
    while (PGnotify* notify = PQnotifies(conn_.get())) {
        payloads.emplace_back(notify->extra != nullptr ? notify->extra : "");
        PQfreemem(notify);
    }
    return payloads;
}

} // namespace apitoken::fleet
