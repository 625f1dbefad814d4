#include "cli/failure_message.hpp"

namespace apitoken::cli {
namespace {

std::string refusal(const ipc::Outcome& outcome, const std::string& subject) {
    switch (outcome.error) {
    case ipc::Error::AccessDenied:
        return "access denied: " + outcome.message +
               "\n(to manage other users' tokens, run as root or as a member of the admin group)";
    case ipc::Error::NoSuchToken:
        return subject +
               " does not exist (see \"apitokenctl list\"; another user's tokens: --user)";
    case ipc::Error::NoSuchUser: return outcome.message;
    case ipc::Error::DuplicateName:
        return outcome.message + "; choose another name, or rename or revoke the old token";
    case ipc::Error::TooManyTokens: return outcome.message;
    case ipc::Error::InvalidArgument: return "invalid argument: " + outcome.message;
    case ipc::Error::Busy: return "apitokend is busy; try again in a moment";
    case ipc::Error::TooManyAttempts:
    case ipc::Error::AuthenticationFailed: return outcome.message;
    case ipc::Error::Failed:
        return "apitokend failed: " + outcome.message + " (see: journalctl -u apitokend)";
    }
    return outcome.message;
}

} // namespace

std::string failure_message(const ipc::Outcome& outcome, const std::string& subject) {
    switch (outcome.kind) {
    case ipc::Outcome::Kind::Ok: return {};
    case ipc::Outcome::Kind::Refused: return refusal(outcome, subject);
    case ipc::Outcome::Kind::Unavailable:
        if (outcome.no_bus) {
            return outcome.message +
                   "\nis the system bus (dbus) running? start it with: systemctl start dbus";
        }
        return "apitokend is not running or not answering on the system bus (" + outcome.message +
               ")\nstart it with: systemctl start apitokend (without systemd, see apitokend(8))";
    case ipc::Outcome::Kind::OutOfMemory: return "out of memory";
    case ipc::Outcome::Kind::Failed:
        if (outcome.unknown_method) {
            return "apitokend is older than this apitokenctl and cannot do this (" +
                   outcome.message + "); upgrade apitokend";
        }
        return "cannot talk to apitokend: " + outcome.message;
    }
    return outcome.message;
}

} // namespace apitoken::cli
