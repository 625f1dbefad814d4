#pragma once

#include "ipc/bus_api.hpp"

#include <stdexcept>
#include <string>

namespace apitoken::store {
class StoreError;
}

namespace apitoken::daemon {

class AuditLog;

// A refusal as the daemon's core states it: one of the contract's error
// names plus a message the caller may see. The bus edge turns it into a
// D-Bus error; details that only the admin may see go to the audit log.
struct Failure {
    ipc::Error code = ipc::Error::Failed;
    std::string message;
};

class ApiError : public std::runtime_error {
public:
    ApiError(ipc::Error code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    explicit ApiError(const Failure& failure) : ApiError(failure.code, failure.message) {}

    [[nodiscard]] ipc::Error code() const noexcept { return code_; }
    [[nodiscard]] Failure failure() const { return {code_, what()}; }

private:
    ipc::Error code_;
};

// The refusals said in many places, worded once.
[[nodiscard]] Failure busy();
[[nodiscard]] Failure authentication_failed(); // wrong, revoked, expired, out of scope: one answer
[[nodiscard]] Failure too_many_attempts();
[[nodiscard]] Failure out_of_memory();

// The one place where store errors become API errors. Details that only the
// admin should see (paths, LMDB errors) are logged, not returned.
[[nodiscard]] Failure failure_of(const store::StoreError& error, const AuditLog& log);
// The same for whatever a call threw (to be called inside a catch block):
// refusals as they are, anything unexpected logged and reported as Failed.
[[nodiscard]] Failure failure_of_current_exception(const AuditLog& log);

} // namespace apitoken::daemon
