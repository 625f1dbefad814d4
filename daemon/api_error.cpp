#include "daemon/api_error.hpp"

#include "daemon/audit_log.hpp"
#include "daemon/user_directory.hpp"
#include "store/store_error.hpp"

#include <exception>
#include <new>

namespace apitoken::daemon {

using ipc::Error;
using store::StoreErrc;

Failure busy() {
    return {Error::Busy, "apitokend is busy; try again"};
}

Failure authentication_failed() {
    return {Error::AuthenticationFailed, "authentication failed"};
}

Failure too_many_attempts() {
    return {Error::TooManyAttempts, "too many failed attempts; try later"};
}

Failure out_of_memory() {
    return {Error::Failed, "out of memory"};
}

Failure failure_of(const store::StoreError& error, const AuditLog& log) {
    switch (error.code()) {
    case StoreErrc::NotFound: return {Error::NoSuchToken, error.what()};
    case StoreErrc::DuplicateName: return {Error::DuplicateName, error.what()};
    case StoreErrc::TooManyTokens: return {Error::TooManyTokens, error.what()};
    case StoreErrc::InvalidArgument: return {Error::InvalidArgument, error.what()};
    // Fleet mode: the admin's and the caller's message are the same (what
    // the database said names no local path).
    case StoreErrc::FleetUnreachable:
    case StoreErrc::FleetRefused:
        log.error(std::string("fleet: ") + error.what());
        return {Error::Failed, error.what()};
    default:
        log.error(std::string("token store: ") + error.what());
        return {Error::Failed, "the token store failed; the daemon's log says why"};
    }
}

Failure failure_of_current_exception(const AuditLog& log) {
    try {
        throw;
    } catch (const ApiError& refusal) {
        return refusal.failure();
    } catch (const store::StoreError& store_error) {
        return failure_of(store_error, log);
    } catch (const UserDirectoryError& nss_error) {
        log.error(nss_error.what());
        return {Error::Failed, "the user database could not be read"};
    } catch (const std::bad_alloc&) {
        log.error("out of memory");
        return out_of_memory();
    } catch (const std::exception& unexpected) {
        log.error(std::string("internal error: ") + unexpected.what());
        return {Error::Failed, "internal error"};
    } catch (...) {
        log.error("internal error: an unknown exception");
        return {Error::Failed, "internal error"};
    }
}

} // namespace apitoken::daemon
