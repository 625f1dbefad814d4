// pam_apitoken.so: PAM glue only. Gets the user and the token, asks apitokend
// with one bus call, maps the answer (outcome_mapping). Loaded into other
// people's processes: exports only pam_sm_*, lets no exception out, starts
// no thread, keeps no global state, and wipes the token after use.
#include "contract/token_shape.hpp"
#include "ipc/bus_client.hpp"
#include "ipc/sensitive_string.hpp"
#include "pam_module/module_options.hpp"
#include "pam_module/outcome_mapping.hpp"

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#define APITOKEN_EXPORT __attribute__((visibility("default")))

namespace {

using apitoken::ipc::SensitiveString;
using apitoken::pam::ModuleOptions;
using apitoken::pam::TokenSource;

// A string item (PAM_SERVICE, PAM_RHOST, ...) or "" when unset.
std::string item_text(pam_handle_t* pamh, int item) {
    const void* value = nullptr;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

// A PAM call that failed, logged where it failed, as systemd's pam-util.c
// does: what was attempted and pam_strerror's words for `rc`. PAM_CONV_AGAIN
// is a non-blocking application asking to be called again, not a failure:
// logged only with `debug`.
void log_pam_failure(pam_handle_t* pamh, const ModuleOptions& options, int rc,
                     const char* attempted) {
    if (rc != PAM_CONV_AGAIN) {
        pam_syslog(pamh, LOG_ERR, "%s: %s", attempted, pam_strerror(pamh, rc));
    } else if (options.debug) {
        pam_syslog(pamh, LOG_DEBUG, "%s: %s", attempted, pam_strerror(pamh, rc));
    }
}

// The conversation's answer, malloc'ed by the application: wiped and freed
// on every path out, a bad_alloc while copying it included.
struct WipeAndFree {
    void operator()(char* text) const noexcept {
        explicit_bzero(text, std::strlen(text));
        std::free(text); // NOLINT(cppcoreguidelines-no-malloc): the application malloc'ed it
    }
};
using PromptAnswer = std::unique_ptr<char, WipeAndFree>;

// Asks through the conversation: the answer is copied into `token` (wiped
// memory), and the application's copy is wiped and freed with `answer`.
int prompt_for_token(pam_handle_t* pamh, const ModuleOptions& options, SensitiveString& token) {
    char* response = nullptr;
    const int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &response, "API token: ");
    const PromptAnswer answer(response);
    if (rc != PAM_SUCCESS) {
        log_pam_failure(pamh, options, rc, "cannot ask for the API token (pam_prompt)");
        return rc == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CONV_ERR;
    }
    if (answer == nullptr) {
        pam_syslog(pamh, LOG_ERR, "cannot ask for the API token (pam_prompt): no answer");
        return PAM_CONV_ERR;
    }
    token = SensitiveString(answer.get());
    return PAM_SUCCESS;
}

// Where the token comes from, per the *_first_pass options. `prompted` tells
// whether we asked (then PAM_AUTHTOK is ours to set for later modules).
int get_token(pam_handle_t* pamh, const ModuleOptions& options, SensitiveString& token,
              bool& prompted) {
    prompted = false;
    if (options.source != TokenSource::Prompt) {
        const void* earlier = nullptr;
        if (pam_get_item(pamh, PAM_AUTHTOK, &earlier) == PAM_SUCCESS && earlier != nullptr) {
            token = SensitiveString(static_cast<const char*>(earlier));
            return PAM_SUCCESS;
        }
        if (options.source == TokenSource::UseFirstPass) {
            pam_syslog(pamh, LOG_NOTICE, "use_first_pass: no token from an earlier module");
            return PAM_AUTH_ERR;
        }
    }
    prompted = true;
    return prompt_for_token(pamh, options, token);
}

void log_outcome(pam_handle_t* pamh, const ModuleOptions& options, const std::string& user,
                 const apitoken::ipc::Outcome& outcome, const std::string& token_id) {
    using Kind = apitoken::ipc::Outcome::Kind;
    if (outcome.kind == Kind::Ok) {
        pam_syslog(pamh, LOG_INFO, "accepted API token %s for user %s", token_id.c_str(),
                   user.c_str());
    } else if (outcome.kind == Kind::Refused &&
               outcome.error == apitoken::ipc::Error::AccessDenied) {
        pam_syslog(pamh, LOG_ERR,
                   "apitokend refused this service (%s); a service running as a user other "
                   "than root must be in the apitoken-auth group",
                   outcome.message.c_str());
    } else if (outcome.kind != Kind::Refused || options.debug) {
        pam_syslog(pamh, outcome.kind == Kind::Refused ? LOG_NOTICE : LOG_ERR,
                   "no API token authentication for user %s: %s", user.c_str(),
                   outcome.message.c_str());
    }
}

// The user being authenticated, or the PAM code to return.
int get_user_name(pam_handle_t* pamh, const ModuleOptions& options, std::string& out) {
    const char* user = nullptr;
    int rc = pam_get_user(pamh, &user, nullptr);
    if (rc != PAM_SUCCESS) {
        log_pam_failure(pamh, options, rc, "cannot get the user name (pam_get_user)");
    }
    const bool has_name = user != nullptr && *user != '\0';
    if ((rc = apitoken::pam::pam_code_for_get_user(rc, has_name, options)) != PAM_SUCCESS) {
        return rc;
    }
    if (!has_name || user == nullptr) { // never: success means a name (said for the analyzer)
        return PAM_SERVICE_ERR;
    }
    out = user;
    return PAM_SUCCESS;
}

// One call to apitokend, with what the service knows about the request.
int ask_daemon(pam_handle_t* pamh, const ModuleOptions& options, const std::string& user,
               SensitiveString& token) {
    const std::string service = item_text(pamh, PAM_SERVICE);
    const std::string rhost = item_text(pamh, PAM_RHOST);
    const std::string ruser = item_text(pamh, PAM_RUSER);
    // Who runs the service's process: in a setuid program such as su, the
    // user who started it. With the service and PAM_RUSER it tells local
    // requesters apart, so that one user's wrong guesses do not lock the
    // token's owner out (the daemon believes it only from root and the
    // auth group).
    const uid_t requester = getuid();
    if (options.debug) {
        pam_syslog(pamh, LOG_DEBUG,
                   "user %s, service %s, rhost %s, ruser %s, uid %u: asking apitokend "
                   "(timeout %lld ms)",
                   user.c_str(), service.c_str(), rhost.c_str(), ruser.c_str(), requester,
                   static_cast<long long>(options.timeout.count()));
    }
    std::string token_id;
    apitoken::ipc::Outcome outcome;
    {
        using Transport = apitoken::ipc::Client::Transport;
        apitoken::ipc::Client client(options.timeout, options.bus_only ? Transport::BusOnly
                                                                       : Transport::DirectFirst);
        if (options.debug) {
            pam_syslog(pamh, LOG_DEBUG, "asking apitokend over %s",
                       client.direct() ? "its direct socket" : "the system bus");
        }
        outcome = client.authenticate(user, token.view(),
                                      apitoken::ipc::AuthContext{service, rhost, ruser, requester},
                                      &token_id);
    }
    token.clear();
    log_outcome(pamh, options, user, outcome, token_id);
    return apitoken::pam::pam_code_for(outcome, options);
}

int authenticate(pam_handle_t* pamh, int argc, const char** argv) {
    const ModuleOptions options = apitoken::pam::parse_module_options(argc, argv);
    for (const auto& unknown : options.unknown) {
        pam_syslog(pamh, LOG_WARNING, "ignoring unknown or invalid option \"%s\"", unknown.c_str());
    }
    std::string user;
    int rc = get_user_name(pamh, options, user);
    if (rc != PAM_SUCCESS) {
        return rc;
    }
    SensitiveString token;
    bool prompted = false;
    if ((rc = get_token(pamh, options, token, prompted)) != PAM_SUCCESS) {
        return rc;
    }
    // Whatever was typed is offered to later modules (pam_unix try_first_pass):
    // in a token-or-password stack it may be the password.
    if (prompted && (rc = pam_set_item(pamh, PAM_AUTHTOK, token.c_str())) != PAM_SUCCESS) {
        log_pam_failure(pamh, options, rc,
                        "cannot offer the token to later modules (pam_set_item PAM_AUTHTOK)");
        return rc;
    }
    // A password typed at our prompt never leaves this process (with
    // jenkins_tokens, unless it looks like a Jenkins API token).
    const bool jenkins =
        options.jenkins_tokens && apitoken::store::has_jenkins_token_shape(token.view());
    if (!apitoken::store::has_token_shape(token.view()) && !jenkins) {
        if (options.debug) {
            pam_syslog(pamh, LOG_DEBUG, "user %s: input is not an API token; apitokend not asked",
                       user.c_str());
        }
        return PAM_AUTH_ERR;
    }
    return ask_daemon(pamh, options, user, token);
}

} // namespace

extern "C" {

APITOKEN_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int /*flags*/, int argc,
                                        const char** argv) {
    try {
        return authenticate(pamh, argc, argv);
    } catch (const std::bad_alloc&) {
        return PAM_BUF_ERR;
    } catch (...) {
        return PAM_SERVICE_ERR;
    }
}

APITOKEN_EXPORT int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/,
                                   const char** /*argv*/) {
    return PAM_SUCCESS;
}

} // extern "C"
