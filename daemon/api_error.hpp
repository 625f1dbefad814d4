#pragma once

#include "ipc/bus_api.hpp"

#include <stdexcept>
#include <string>

namespace apitoken::daemon {

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

    [[nodiscard]] ipc::Error code() const noexcept { return code_; }
    [[nodiscard]] Failure failure() const { return {code_, what()}; }

private:
    ipc::Error code_;
};

} // namespace apitoken::daemon
