#pragma once

// What apitokenctl scan says about the tokens it found: one line (or JSON
// object) per sighting, never the secret; which of them go to
// RevokeLeakedTokens together; and the exit status.

#include "cli/leak_scan.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::cli {

// Not asked (--offline, or apitokend could not answer).
inline constexpr const char* kStateUnchecked = "unchecked";

// What is known about one sighting's token.
struct TokenVerdict {
    std::string state = kStateUnchecked; // ipc::token_state::k*, or kStateUnchecked
    std::string user;                    // owner and name: only when the caller may see them
    std::string name;
    bool revoked_now = false; // by this scan's --revoke
};

// "PATH:LINE:COL: atk_<id>… STATE[ USER/NAME]" (no newline); STATE is live,
// revoked, expired, "not yours or unknown", unchecked or "revoked now".
[[nodiscard]] std::string sighting_line(const Sighting& sighting, const TokenVerdict& verdict);

// {path, line, column, id, state, user?, name?, revoked_now?}: user and name
// when known, revoked_now when --revoke was asked.
[[nodiscard]] nlohmann::json sighting_json(const Sighting& sighting, const TokenVerdict& verdict,
                                           bool revoke_asked);

// Whether the token works (or did until this scan revoked it).
[[nodiscard]] bool is_live(const TokenVerdict& verdict);

// Whether --revoke sends the token: live, or unknown (perhaps another
// user's live token: possession is the proof, the daemon checks it).
[[nodiscard]] bool should_send_for_revocation(const TokenVerdict& verdict);

// Groups tokens (given by their ids, in order) into calls of at most
// `per_call`, never two with the same id in one call, so that each id the
// daemon answers names exactly one of the tokens sent. Indices into `ids`.
[[nodiscard]] std::vector<std::vector<std::size_t>>
revocation_calls(const std::vector<std::string>& ids, std::size_t per_call);

struct ScanOutcome {
    bool live_found = false;    // or, offline, any token found
    bool daemon_failed = false; // tokens found, but not all could be asked about
    bool unreadable = false;    // something could not be read
};

// 1 live token found; 3 apitokend could not say; 2 something unreadable
// (and nothing live found, like grep); 0 none.
[[nodiscard]] int scan_exit_status(const ScanOutcome& outcome);

} // namespace apitoken::cli
