#include "pam_module/outcome_mapping.hpp"

#include <security/_pam_types.h>

namespace apitoken::pam {
namespace {

int refused_code(ipc::Error error, const ModuleOptions& options) noexcept {
    switch (error) {
    case ipc::Error::AuthenticationFailed: return PAM_AUTH_ERR;
    case ipc::Error::NoSuchUser: return options.ignore_unknown_user ? PAM_IGNORE : PAM_USER_UNKNOWN;
    case ipc::Error::TooManyAttempts: return PAM_MAXTRIES;
    // A full queue is the daemon being unavailable for now.
    case ipc::Error::Busy:
        return options.ignore_authinfo_unavail ? PAM_IGNORE : PAM_AUTHINFO_UNAVAIL;
    // The service may not check tokens (AccessDenied: not in apitoken-auth),
    // or sent what the daemon cannot take: the service is misconfigured.
    case ipc::Error::AccessDenied:
    case ipc::Error::InvalidArgument:
    case ipc::Error::NoSuchToken:
    case ipc::Error::DuplicateName:
    case ipc::Error::TooManyTokens:
    case ipc::Error::Failed: return PAM_SERVICE_ERR;
    }
    return PAM_SERVICE_ERR;
}

} // namespace

int pam_code_for(const ipc::Outcome& outcome, const ModuleOptions& options) noexcept {
    switch (outcome.kind) {
    case ipc::Outcome::Kind::Ok: return PAM_SUCCESS;
    case ipc::Outcome::Kind::Refused: return refused_code(outcome.error, options);
    case ipc::Outcome::Kind::Unavailable:
        return options.ignore_authinfo_unavail ? PAM_IGNORE : PAM_AUTHINFO_UNAVAIL;
    case ipc::Outcome::Kind::OutOfMemory: return PAM_BUF_ERR;
    case ipc::Outcome::Kind::Failed: return PAM_SERVICE_ERR;
    }
    return PAM_SERVICE_ERR;
}

int pam_code_for_get_user(int rc, bool has_name, const ModuleOptions& options) noexcept {
    switch (rc) {
    case PAM_SUCCESS:
        if (has_name) {
            return PAM_SUCCESS;
        }
        return options.ignore_unknown_user ? PAM_IGNORE : PAM_USER_UNKNOWN;
    case PAM_CONV_ERR:
    case PAM_BUF_ERR: return rc;
    // The application's conversation will answer later (non-blocking).
    case PAM_CONV_AGAIN: return PAM_INCOMPLETE;
    default: return PAM_SERVICE_ERR;
    }
}

} // namespace apitoken::pam
