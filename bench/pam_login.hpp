#pragma once

namespace apitoken::bench {

// One PAM authentication as a service makes it: pam_start, PAM_RHOST,
// pam_authenticate, pam_end, on a handle of its own (so threads may run
// them side by side).
struct PamLogin {
    const char* service = nullptr;
    const char* user = nullptr;
    // What the user "types" at the prompt; the conversation answers every
    // prompt with it.
    const char* secret = nullptr;
    const char* rhost = nullptr;
};

// pam_authenticate's return code, or what failed before it (pam_start,
// pam_set_item).
int pam_login(const PamLogin& login) noexcept;

} // namespace apitoken::bench
