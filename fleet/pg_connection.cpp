#include "fleet/pg_connection.hpp"

#include <array>

namespace apitoken::fleet {
namespace {

// A line of libpq's message, without its trailing newline.
std::string trimmed(const char* text) {
    std::string out = text != nullptr ? text : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

} // namespace

PgConnection::PgConnection(const std::string& conninfo) {
    // Keywords given before "dbname" are defaults that the expanded conninfo
    // overrides: a dead server costs at most connect_timeout, and a silent
    // one is noticed by the keepalives.
    const std::array<const char*, 7> keys{"connect_timeout",
                                          "keepalives_idle",
                                          "keepalives_interval",
                                          "keepalives_count",
                                          "application_name",
                                          "dbname",
                                          nullptr};
    const std::array<const char*, 7> values{"5",    "10", "5", "3", "apitokend", conninfo.c_str(),
                                            nullptr};
    conn_.reset(PQconnectdbParams(keys.data(), values.data(), 1));
    if (!conn_) {
        throw PgError("out of memory connecting to the fleet database", true);
    }
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        throw PgError(trimmed(PQerrorMessage(conn_.get())), true);
    }
}

PgResult PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
    std::vector<const char*> raw;
    raw.reserve(params.size());
    for (const auto& param : params) {
        raw.push_back(param ? param->c_str() : nullptr);
    }
    PgResult result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(raw.size()), nullptr,
                                 raw.data(), nullptr, nullptr, 0));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail("the fleet database", result.get());
    }
    return result;
}

void PgConnection::run_script(const std::string& sql) {
    const PgResult result(PQexec(conn_.get(), sql.c_str()));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail("the fleet database", result.get());
    }
}

void PgConnection::fail(const std::string& what, const PGresult* result) const {
    const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
    std::string message = result != nullptr ? trimmed(PQresultErrorMessage(result)) : "";
    if (message.empty()) {
        message = trimmed(PQerrorMessage(conn_.get()));
    }
    throw PgError(what + ": " + message, lost);
}

std::string PgConnection::value(const PgResult& result, int row, int column) {
    if (PQgetisnull(result.get(), row, column) != 0) {
        return {};
    }
    return {PQgetvalue(result.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result.get(), row, column))};
}

int PgConnection::socket() const noexcept {
    return PQsocket(conn_.get());
}

bool PgConnection::usable() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

std::vector<std::string> PgConnection::notifications() {
    if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK) {
        throw PgError("lost the fleet database: " + trimmed(PQerrorMessage(conn_.get())), true);
    }
    std::vector<std::string> payloads;
    while (PGnotify* notify = PQnotifies(conn_.get())) {
        payloads.emplace_back(notify->extra != nullptr ? notify->extra : "");
        PQfreemem(notify);
    }
    return payloads;
}

} // namespace apitoken::fleet
