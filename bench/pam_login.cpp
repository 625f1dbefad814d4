#include "bench/pam_login.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <span>

namespace apitoken::bench {
namespace {

void free_responses(pam_response* responses, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        std::free(responses[i].resp); // NOLINT(cppcoreguidelines-no-malloc): PAM's contract
    }
    std::free(responses); // NOLINT(cppcoreguidelines-no-malloc): PAM's contract
}

// A service's conversation function: the secret for every prompt, nothing
// for messages. PAM frees the answers with free(), so they come from malloc.
int answer_prompts(int count, const pam_message** messages, pam_response** out, void* data) {
    if (count <= 0 || messages == nullptr || out == nullptr) {
        return PAM_CONV_ERR;
    }
    const auto total = static_cast<std::size_t>(count);
    // NOLINTNEXTLINE(cppcoreguidelines-no-malloc): PAM frees it with free()
    auto* responses = static_cast<pam_response*>(std::calloc(total, sizeof(pam_response)));
    if (responses == nullptr) {
        return PAM_BUF_ERR;
    }
    const auto* secret = static_cast<const char*>(data);
    const std::span<const pam_message*> asked(messages, total);
    for (std::size_t i = 0; i < total; ++i) {
        const int style = asked[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) {
            continue;
        }
        responses[i].resp = ::strdup(secret);
        if (responses[i].resp == nullptr) {
            free_responses(responses, total);
            return PAM_BUF_ERR;
        }
    }
    *out = responses;
    return PAM_SUCCESS;
}

} // namespace

int pam_login(const PamLogin& login) noexcept {
    // PAM takes a non-const appdata pointer; the conversation only reads it.
    const pam_conv conversation{answer_prompts, const_cast<char*>(login.secret)};
    pam_handle_t* handle = nullptr;
    int rc = pam_start(login.service, login.user, &conversation, &handle);
    if (rc != PAM_SUCCESS) {
        return rc;
    }
    rc = pam_set_item(handle, PAM_RHOST, login.rhost);
    if (rc == PAM_SUCCESS) {
        rc = pam_authenticate(handle, 0);
    }
    pam_end(handle, rc);
    return rc;
}

} // namespace apitoken::bench
