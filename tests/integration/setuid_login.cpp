// apitoken-test-setuid-login SERVICE USER REQUESTER_UID [RUSER]: one PAM
// authentication the way a setuid-root program such as su makes it: real
// uid REQUESTER_UID, effective uid root, PAM_RUSER set to the requester.
// The token is read from stdin. Started as root (so that pam_wrapper's
// LD_PRELOAD is honoured: a real setuid exec would drop it), it takes the
// requester's real uid before PAM starts. Prints pam_strerror(); exits 0 on
// success, 1 otherwise, 2 on usage or set-up errors.
#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

// The one answer to every prompt: the token from stdin.
int answer_with_token(int count, const pam_message** messages, pam_response** responses,
                      void* token) {
    auto* answers = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (answers == nullptr) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
            messages[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            answers[i].resp = ::strdup(static_cast<const std::string*>(token)->c_str());
        }
    }
    *responses = answers;
    return PAM_SUCCESS;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4 || argc > 5) {
        std::cerr << "usage: apitoken-test-setuid-login SERVICE USER REQUESTER_UID [RUSER]\n";
        return 2;
    }
    const auto requester = static_cast<uid_t>(std::strtoul(argv[3], nullptr, 10));
    std::string token;
    std::getline(std::cin, token);
    if (::setresuid(requester, 0, 0) != 0) {
        std::perror("setresuid");
        return 2;
    }
    pam_conv conversation{answer_with_token, &token};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start(argv[1], argv[2], &conversation, &pamh);
    if (rc == PAM_SUCCESS && argc == 5) {
        rc = pam_set_item(pamh, PAM_RUSER, argv[4]);
    }
    if (rc == PAM_SUCCESS) {
        rc = pam_authenticate(pamh, 0);
    }
    std::cout << pam_strerror(pamh, rc) << "\n";
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
