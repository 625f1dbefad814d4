// What apitokenctl scan prints and answers: the line and JSON of a
// sighting (never the secret), which tokens go to RevokeLeakedTokens
// together, the exit status, and the journal record of a revocation.
#include "cli/exit_status.hpp"
#include "cli/leak_journal.hpp"
#include "cli/output.hpp"
#include "cli/scan_report.hpp"
#include "ipc/bus_api.hpp"

#include <gtest/gtest.h>

#include <set>

namespace apitoken::cli {
namespace {

constexpr std::string_view kToken = "atk_0123456789abfedcba9876543210fedcba987654321012345678";

Sighting sighting() {
    Sighting s;
    s.path = "src/config.yaml";
    s.line = 12;
    s.column = 9;
    s.id = "0123456789ab";
    s.token = ipc::SensitiveString(kToken);
    return s;
}

TokenVerdict verdict(const char* state, std::string user = "", std::string name = "") {
    TokenVerdict v;
    v.state = state;
    v.user = std::move(user);
    v.name = std::move(name);
    return v;
}

TEST(ScanReport, OneLinePerSightingWithTheStateAndNeverTheSecret) {
    const Sighting s = sighting();
    EXPECT_EQ(sighting_line(s, verdict(ipc::token_state::kLive, "alice", "ci")),
              "src/config.yaml:12:9: atk_0123456789ab\u2026 live alice/ci");
    EXPECT_EQ(sighting_line(s, verdict(ipc::token_state::kRevoked, "alice", "ci")),
              "src/config.yaml:12:9: atk_0123456789ab\u2026 revoked alice/ci");
    EXPECT_EQ(sighting_line(s, verdict(ipc::token_state::kExpired, "alice", "ci")),
              "src/config.yaml:12:9: atk_0123456789ab\u2026 expired alice/ci");
    EXPECT_EQ(sighting_line(s, verdict(ipc::token_state::kUnknown)),
              "src/config.yaml:12:9: atk_0123456789ab\u2026 not yours or unknown");
    EXPECT_EQ(sighting_line(s, verdict(kStateUnchecked)),
              "src/config.yaml:12:9: atk_0123456789ab\u2026 unchecked");
    TokenVerdict now = verdict(ipc::token_state::kUnknown);
    now.revoked_now = true;
    EXPECT_EQ(sighting_line(s, now), "src/config.yaml:12:9: atk_0123456789ab\u2026 revoked now");
    for (const auto* state : {ipc::token_state::kLive, ipc::token_state::kUnknown}) {
        EXPECT_EQ(sighting_line(s, verdict(state)).find(kToken.substr(16)), std::string::npos);
    }
}

TEST(ScanReport, PathsAndNamesCannotHideAnything) {
    Sighting s = sighting();
    s.path = "evil\n/\x1b[2Jpath";
    const std::string line = sighting_line(s, verdict(ipc::token_state::kLive, "bob", "x\ny"));
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
}

TEST(ScanReport, JsonHasTheKeysAndNoSecret) {
    const Sighting s = sighting();
    const auto known = sighting_json(s, verdict(ipc::token_state::kLive, "alice", "ci"), false);
    EXPECT_EQ(known, nlohmann::json::parse(R"({"path": "src/config.yaml", "line": 12,
        "column": 9, "id": "0123456789ab", "state": "live", "user": "alice", "name": "ci"})"));
    TokenVerdict now = verdict(ipc::token_state::kUnknown);
    now.revoked_now = true;
    EXPECT_EQ(sighting_json(s, now, true), nlohmann::json::parse(R"({"path": "src/config.yaml",
        "line": 12, "column": 9, "id": "0123456789ab", "state": "unknown", "revoked_now": true})"));
    EXPECT_EQ(known.dump().find(kToken.substr(16)), std::string::npos);
}

TEST(ScanReport, JsonCarriesAPathThatIsNotUtf8) {
    Sighting s = sighting();
    s.path = "r\xe9sum\xe9.txt"; // Latin-1
    const auto out = sighting_json(s, verdict(ipc::token_state::kLive), false);
    EXPECT_EQ(out.at("path"), "r\\xE9sum\\xE9.txt");
    EXPECT_NO_THROW(static_cast<void>(json_text(nlohmann::json::array({out}), 2)));
}

TEST(ScanReport, WhatCountsAsLiveAndWhatIsSentForRevocation) {
    EXPECT_TRUE(is_live(verdict(ipc::token_state::kLive)));
    EXPECT_FALSE(is_live(verdict(ipc::token_state::kUnknown)));
    EXPECT_FALSE(is_live(verdict(ipc::token_state::kRevoked)));
    EXPECT_FALSE(is_live(verdict(ipc::token_state::kExpired)));
    TokenVerdict now = verdict(ipc::token_state::kUnknown);
    now.revoked_now = true;
    EXPECT_TRUE(is_live(now));
    EXPECT_TRUE(should_send_for_revocation(verdict(ipc::token_state::kLive)));
    EXPECT_TRUE(should_send_for_revocation(verdict(ipc::token_state::kUnknown)));
    EXPECT_FALSE(should_send_for_revocation(verdict(ipc::token_state::kRevoked)));
    EXPECT_FALSE(should_send_for_revocation(verdict(ipc::token_state::kExpired)));
    EXPECT_FALSE(should_send_for_revocation(verdict(kStateUnchecked)));
}

TEST(ScanReport, RevocationCallsAreBoundedAndNeverHoldAnIdTwice) {
    std::vector<std::string> ids;
    ids.reserve(40);
    for (int i = 0; i < 40; ++i) {
        ids.push_back("id" + std::to_string(i % 7 == 0 ? 0 : i)); // id0 six times
    }
    const auto calls = revocation_calls(ids, 16);
    std::set<std::size_t> seen;
    for (const auto& call : calls) {
        EXPECT_LE(call.size(), 16U);
        std::set<std::string> in_call;
        for (const std::size_t i : call) {
            EXPECT_TRUE(in_call.insert(ids[i]).second) << ids[i] << " twice in one call";
            EXPECT_TRUE(seen.insert(i).second);
        }
    }
    EXPECT_EQ(seen.size(), ids.size());
    EXPECT_EQ(calls.size(), 6U) << "the six tokens of id0 need six calls";
    EXPECT_TRUE(revocation_calls({}, 16).empty());
    EXPECT_EQ(revocation_calls({"a", "b", "c"}, 16).size(), 1U);
}

TEST(ScanReport, ExitStatus) {
    EXPECT_EQ(scan_exit_status({}), kExitOk);
    EXPECT_EQ(scan_exit_status({.live_found = true, .daemon_failed = true, .unreadable = true}),
              kExitFailed);
    EXPECT_EQ(scan_exit_status({.daemon_failed = true, .unreadable = true}), kExitScanUnchecked);
    EXPECT_EQ(scan_exit_status({.unreadable = true}), kExitUsage);
    EXPECT_EQ(kExitScanUnchecked, 3);
}

TEST(ScanReport, JournalRecordSaysWhereAndWhoButNotTheToken) {
    const auto fields = leak_revoked_fields("0123456789ab", "src/a b.txt", 7, 61001);
    const std::set<std::string> got(fields.begin(), fields.end());
    EXPECT_TRUE(got.contains("MESSAGE_ID=8840591edd384018939992b303c249fe"));
    EXPECT_TRUE(got.contains("APITOKEN_TOKEN_ID=0123456789ab"));
    EXPECT_TRUE(got.contains("APITOKEN_FOUND_AT=src/a b.txt:7"));
    EXPECT_TRUE(got.contains("APITOKEN_CALLER_UID=61001"));
    EXPECT_TRUE(got.contains("SYSLOG_IDENTIFIER=apitokenctl"));
    EXPECT_TRUE(got.contains(
        "MESSAGE=token 0123456789ab revoked as leaked: found at \"src/a b.txt:7\" by uid 61001"));
}

TEST(ScanReport, JournalMessageEscapesAHostilePath) {
    const auto fields =
        leak_revoked_fields("0123456789ab", "a\nMESSAGE=\x1b[2J\" by uid 0", 7, 61001);
    const std::set<std::string> got(fields.begin(), fields.end());
    EXPECT_TRUE(got.contains("MESSAGE=token 0123456789ab revoked as leaked: found at "
                             "\"a\\u{000A}MESSAGE=\\u{001B}[2J\\\" by uid 0:7\" by uid 61001"))
        << "the MESSAGE text shows a path's newline, escape or quote raw";
    EXPECT_TRUE(got.contains("APITOKEN_FOUND_AT=a\nMESSAGE=\x1b[2J\" by uid 0:7"))
        << "the raw field lost the path's bytes";
}

} // namespace
} // namespace apitoken::cli
