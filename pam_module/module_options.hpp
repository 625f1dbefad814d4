#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::pam {

// Where the token comes from.
enum class TokenSource {
    Prompt,       // default: ask through the conversation
    TryFirstPass, // PAM_AUTHTOK from an earlier module if set, else ask
    UseFirstPass, // PAM_AUTHTOK from an earlier module, never ask
};

// The options of one `auth ... pam_apitoken.so [options]` line. Parsed anew
// on every call (a PAM module may serve several stacks in one process), never
// kept in globals.
struct ModuleOptions {
    bool debug = false;
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};
    TokenSource source = TokenSource::Prompt;
    bool ignore_unknown_user = false;
    bool ignore_authinfo_unavail = false;
    // Also send Jenkins API tokens ("11" + 32 hex, or 32 hex) to apitokend,
    // for tokens imported with apitokenctl import-jenkins. A password of that
    // shape then leaves the process too, so it is off by default.
    bool jenkins_tokens = false;
    // Only the system bus, never apitokend's direct socket.
    bool bus_only = false;
    // Options we did not understand, for the caller to log and ignore.
    std::vector<std::string> unknown;
};

// `timeout=SECONDS` accepts 1-300 whole or fractional seconds (e.g. 2.5);
// anything else is reported as unknown and the default is kept.
[[nodiscard]] ModuleOptions parse_module_options(int argc, const char** argv);

} // namespace apitoken::pam
