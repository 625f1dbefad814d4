#include "cli/scan_report.hpp"

#include "cli/exit_status.hpp"
#include "cli/output.hpp"
#include "ipc/bus_api.hpp"

#include <map>
#include <set>

namespace apitoken::cli {
namespace {

namespace token_state = ipc::token_state;

std::string state_text(const TokenVerdict& verdict) {
    if (verdict.revoked_now) {
        return "revoked now";
    }
    if (verdict.state == token_state::kUnknown) {
        return "not yours or unknown";
    }
    return shown(verdict.state);
}

} // namespace

std::string sighting_line(const Sighting& sighting, const TokenVerdict& verdict) {
    std::string line = shown(sighting.path) + ":" + std::to_string(sighting.line) + ":" +
                       std::to_string(sighting.column) + ": atk_" + sighting.id + "\u2026 " +
                       state_text(verdict);
    if (!verdict.user.empty() || !verdict.name.empty()) {
        line += " " + shown(verdict.user) + "/" + shown(verdict.name);
    }
    return line;
}

nlohmann::json sighting_json(const Sighting& sighting, const TokenVerdict& verdict,
                             bool revoke_asked) {
    nlohmann::json out{{"path", json_safe_text(sighting.path)},
                       {"line", sighting.line},
                       {"column", sighting.column},
                       {"id", sighting.id},
                       {"state", verdict.state}};
    if (!verdict.user.empty()) {
        out["user"] = verdict.user;
    }
    if (!verdict.name.empty()) {
        out["name"] = verdict.name;
    }
    if (revoke_asked) {
        out["revoked_now"] = verdict.revoked_now;
    }
    return out;
}

bool is_live(const TokenVerdict& verdict) {
    return verdict.revoked_now || verdict.state == token_state::kLive;
}

bool should_send_for_revocation(const TokenVerdict& verdict) {
    return verdict.state == token_state::kLive || verdict.state == token_state::kUnknown;
}

std::vector<std::vector<std::size_t>> revocation_calls(const std::vector<std::string>& ids,
                                                       std::size_t per_call) {
    std::vector<std::vector<std::size_t>> calls;
    // The n-th token of an id goes to the n-th call that has room and no
    // token of that id yet.
    std::vector<std::set<std::string, std::less<>>> ids_in_call;
    std::map<std::string, std::size_t, std::less<>> next_call_of;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        std::size_t call = next_call_of[ids[i]];
        while (call < calls.size() &&
               (calls[call].size() >= per_call || ids_in_call[call].contains(ids[i]))) {
            ++call;
        }
        if (call == calls.size()) {
            calls.emplace_back();
            ids_in_call.emplace_back();
        }
        calls[call].push_back(i);
        ids_in_call[call].insert(ids[i]);
        next_call_of[ids[i]] = call + 1;
    }
    return calls;
}

int scan_exit_status(const ScanOutcome& outcome) {
    if (outcome.live_found) {
        return kExitFailed;
    }
    if (outcome.daemon_failed) {
        return kExitScanUnchecked;
    }
    return outcome.unreadable ? kExitUsage : kExitOk;
}

} // namespace apitoken::cli
