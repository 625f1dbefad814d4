// apitokenctl's pure parts: what options become on the bus, and how tokens
// are shown (list cells, show's page, update's changes, the JSON form).
#include "cli/token_json.hpp"
#include "cli/token_settings.hpp"
#include "cli/token_text.hpp"
#include "ipc/bus_api.hpp"

#include <gtest/gtest.h>

#include <set>

namespace apitoken::cli {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'800'000'000; // 2027-01-15T08:00:00Z
constexpr std::int64_t kDay = 86400;

template <typename T>
T value_at(const ipc::Dictionary& dictionary, const char* key) {
    bool wrong_type = false;
    const auto value = ipc::value_of<T>(dictionary, key, wrong_type);
    EXPECT_FALSE(wrong_type) << key;
    EXPECT_TRUE(value) << key;
    return value.value_or(T{});
}

ipc::TokenInfo alices_token() {
    ipc::TokenInfo t;
    t.id = "0123456789ab";
    t.name = "ci-upload";
    t.user = "alice";
    t.uid = 61001;
    t.created_by = 61001;
    t.created = kNow - 3 * kDay;
    t.expires = kNow + 29 * kDay;
    t.origin = "apitoken";
    return t;
}

std::string row_value(const std::vector<std::vector<std::string>>& rows, const std::string& label) {
    for (const auto& row : rows) {
        if (row.at(0) == label) {
            return row.at(1);
        }
    }
    return "<no " + label + " line>";
}

TEST(TokenSettings, OnlyWhatIsGivenGoesOnTheBus) {
    EXPECT_TRUE(settings_dictionary({}).empty());
    TokenSettings s;
    s.description = "";
    s.services = std::vector<std::string>{};
    s.sources = std::vector<std::string>{"10.0.0.0/8", "::1/128"};
    s.expires = ipc::kExpiresNever;
    s.max_uses = 1;
    const ipc::Dictionary d = settings_dictionary(s);
    EXPECT_EQ(d.size(), 5U);
    EXPECT_EQ(value_at<std::string>(d, ipc::key::kDescription), "") << "clears it";
    EXPECT_TRUE(value_at<std::vector<std::string>>(d, ipc::key::kServices).empty());
    EXPECT_EQ(value_at<std::vector<std::string>>(d, ipc::key::kSources).size(), 2U);
    EXPECT_EQ(value_at<std::int64_t>(d, ipc::key::kExpires), 0) << "never is 0 in a{sv}";
    EXPECT_EQ(value_at<std::uint64_t>(d, ipc::key::kMaxUses), 1U);
    EXPECT_FALSE(d.contains(ipc::key::kHosts));
    EXPECT_FALSE(d.contains(ipc::key::kName));

    TokenSettings timed;
    timed.expires = kNow + kDay;
    timed.name = "new";
    const ipc::Dictionary t = settings_dictionary(timed);
    EXPECT_EQ(value_at<std::int64_t>(t, ipc::key::kExpires), kNow + kDay);
    EXPECT_EQ(value_at<std::string>(t, ipc::key::kName), "new");
}

TEST(TokenSettings, TheOldCreateTokenCarriesServicesAndExpiryOnly) {
    TokenSettings s;
    s.services = std::vector<std::string>{"sshd"};
    s.expires = kNow + kDay;
    EXPECT_TRUE(fits_create_token(s));
    for (const auto& change : std::vector<void (*)(TokenSettings&)>{
             [](TokenSettings& t) { t.description = "x"; },
             [](TokenSettings& t) { t.sources = std::vector<std::string>{}; },
             [](TokenSettings& t) { t.hosts = std::vector<std::string>{"web-*"}; },
             [](TokenSettings& t) { t.max_uses = 3; }}) {
        TokenSettings more = s;
        change(more);
        EXPECT_FALSE(fits_create_token(more));
    }
}

TEST(TokenSettings, MaxUsesIsAWholeNumberFromOne) {
    std::string error;
    EXPECT_EQ(parse_max_uses("1", error), 1U);
    EXPECT_EQ(parse_max_uses("250", error), 250U);
    EXPECT_EQ(parse_max_uses("1000000000", error), 1'000'000'000U);
    for (const char* bad : {"0", "", "-1", "+1", "1e3", "1.0", " 1", "1 ", "ten", "0x10"}) {
        error.clear();
        EXPECT_FALSE(parse_max_uses(bad, error)) << bad;
        EXPECT_TRUE(error.starts_with("--max-uses: ")) << error;
    }
    error.clear();
    for (const char* huge : {"1000000001", "18446744073709551615", "18446744073709551616"}) {
        error.clear();
        EXPECT_FALSE(parse_max_uses(huge, error)) << huge;
        EXPECT_NE(error.find("too large, at most 1000000000"), std::string::npos) << error;
    }
    error.clear();
    EXPECT_FALSE(parse_max_uses("0", error));
    EXPECT_NE(error.find("at least 1"), std::string::npos) << error;
}

TEST(TokenSettings, RotateListAndRevokeFilters) {
    const ipc::Dictionary rotate = rotate_dictionary(3600, ipc::kExpiresNever);
    EXPECT_EQ(value_at<std::int64_t>(rotate, ipc::key::kGrace), 3600);
    EXPECT_EQ(value_at<std::int64_t>(rotate, ipc::key::kExpires), 0);
    EXPECT_FALSE(rotate_dictionary(0, std::nullopt).contains(ipc::key::kExpires));

    EXPECT_TRUE(list_filter_dictionary({}).empty());
    const ipc::Dictionary list =
        list_filter_dictionary({.all_users = true, .expiring_within = 7 * kDay, .unused_for = {}});
    EXPECT_TRUE(value_at<bool>(list, ipc::key::kAllUsers));
    EXPECT_EQ(value_at<std::int64_t>(list, ipc::key::kExpiringWithin), 7 * kDay);
    EXPECT_FALSE(list.contains(ipc::key::kUnusedFor));

    const ipc::Dictionary revoke = revoke_filter_dictionary(
        {.unused_for = 90 * kDay, .expired = false, .all_users = false, .dry_run = true});
    EXPECT_EQ(value_at<std::int64_t>(revoke, ipc::key::kUnusedFor), 90 * kDay);
    EXPECT_TRUE(value_at<bool>(revoke, ipc::key::kDryRun));
    EXPECT_FALSE(revoke.contains(ipc::key::kExpired));
    EXPECT_FALSE(revoke.contains(ipc::key::kAllUsers));
}

TEST(TokenText, ListCellsMarkSoonRotatedOrphanedImportedAndLimited) {
    ipc::TokenInfo t = alices_token();
    EXPECT_EQ(expires_cell(t, kNow), "in 29 days");
    t.expires = kNow + 3 * kDay;
    t.expiring_soon = true;
    EXPECT_EQ(expires_cell(t, kNow), "in 3 days (soon)");
    t.expires = kNow - 1;
    EXPECT_EQ(expires_cell(t, kNow), "expired") << "past the warning";
    t.rotated_to = "ba9876543210";
    t.grace_until = kNow + 3600;
    EXPECT_TRUE(expires_cell(t, kNow).starts_with("rotated, until 20")) << expires_cell(t, kNow);

    EXPECT_EQ(name_cell(t), "ci-upload");
    t.orphaned = true;
    t.origin = "jenkins";
    EXPECT_EQ(name_cell(t), "ci-upload (orphaned) (jenkins)");

    EXPECT_EQ(uses_cell(t), "0");
    t.use_count = 3;
    t.max_uses = 10;
    EXPECT_EQ(uses_cell(t), "3/10");
}

TEST(TokenText, ListRowsHaveAnOwnerColumnForAllUsersAndEscapeText) {
    ipc::TokenInfo t = alices_token();
    t.name = "invoice\u202Efdp.exe"; // NOLINT(misc-misleading-bidirectional)
    t.services = {"sshd", "vsftpd"};
    const auto header = list_header(true);
    const auto row = list_row(t, kNow, true);
    ASSERT_EQ(header.size(), row.size());
    EXPECT_EQ(header.at(1), "OWNER");
    EXPECT_EQ(row.at(1), "alice");
    EXPECT_EQ(row.at(2), "invoice\\u{202E}fdp.exe");
    EXPECT_EQ(row.back(), "sshd,vsftpd");
    EXPECT_EQ(list_header(false).size(), 7U);
    EXPECT_EQ(list_row(t, kNow, false).at(1), "invoice\\u{202E}fdp.exe");
    EXPECT_EQ(list_text({}), "any");
}

TEST(TokenText, ShowSaysWhoCreatedItAndTheRotation) {
    ipc::TokenInfo t = alices_token();
    const UserNameOf names = [](std::uint32_t uid) {
        return uid == 0 ? std::string("root") : uid == 61001 ? std::string("alice") : "";
    };
    auto rows = show_rows(t, kNow, names);
    EXPECT_EQ(row_value(rows, "owner:"), "alice (uid 61001)");
    EXPECT_EQ(row_value(rows, "created by:"), "alice (uid 61001), the owner");
    EXPECT_EQ(row_value(rows, "description:"), "(none)");
    EXPECT_EQ(row_value(rows, "sources:"), "any");
    EXPECT_EQ(row_value(rows, "hosts:"), "every host");
    EXPECT_EQ(row_value(rows, "uses:"), "0 (no limit)");
    EXPECT_EQ(row_value(rows, "recent sources:"), "none");

    t.created_by = 0;
    t.max_uses = 1;
    t.rotated_to = "ba9876543210";
    t.grace_until = kNow + 2 * std::int64_t{3600};
    t.origin = "jenkins";
    t.origin_id = "uuid-1";
    t.recent_sources.push_back({"192.0.2.7", "sshd", kNow - kDay, kNow - 60, 4});
    rows = show_rows(t, kNow, names);
    EXPECT_EQ(row_value(rows, "created by:"), "root (uid 0), an admin, for alice");
    EXPECT_EQ(row_value(rows, "uses:"), "0 of 1 (one-time)");
    EXPECT_EQ(row_value(rows, "rotated to:"),
              "ba9876543210, works until 2027-01-15T10:00:00Z (in 2 hours)");
    EXPECT_EQ(row_value(rows, "origin:"), "jenkins (imported, id uuid-1)");
    t.created_by = 4242;
    EXPECT_EQ(row_value(show_rows(t, kNow, names), "created by:"), "uid 4242, an admin, for alice");

    const auto sources = recent_sources_rows(t, kNow);
    ASSERT_EQ(sources.size(), 2U);
    EXPECT_EQ(sources[1], (std::vector<std::string>{"  192.0.2.7", "sshd", "24 hours ago",
                                                    "1 minute ago", "4"}));
}

TEST(TokenText, ShowOfAnOlderDaemonsAnswerLeavesOutWhatItDidNotSay) {
    ipc::TokenInfo t = alices_token();
    t.user.clear(); // ListTokens: no owner, uid or creator
    const auto rows = show_rows(t, kNow, [](std::uint32_t) { return std::string(); });
    EXPECT_EQ(row_value(rows, "owner:"), "<no owner: line>");
    EXPECT_EQ(row_value(rows, "created by:"), "<no created by: line>");
}

TEST(TokenText, ChangesBetweenTwoVersionsOfAToken) {
    const ipc::TokenInfo before = alices_token();
    EXPECT_TRUE(changes_between(before, before).empty());
    ipc::TokenInfo after = before;
    after.name = "ci-2";
    after.services = {"sshd"};
    after.expires = 0;
    after.use_count = 9; // not something update changes
    const auto changes = changes_between(before, after);
    ASSERT_EQ(changes.size(), 3U);
    EXPECT_EQ(changes[0].key, "name");
    EXPECT_EQ(changes[0].before, "\"ci-upload\"");
    EXPECT_EQ(changes[0].after, "\"ci-2\"");
    EXPECT_EQ(changes[1].key, "services");
    EXPECT_EQ(changes[1].before, "any");
    EXPECT_EQ(changes[2].key, "expires");
    EXPECT_EQ(changes[2].after, "never");
}

TEST(TokenJson, EveryKeyOfTheBusWithNullForNone) {
    ipc::TokenInfo t = alices_token();
    const json j = token_json(t, kNow);
    std::set<std::string> keys;
    for (const auto& [key, value] : j.items()) {
        keys.insert(key);
    }
    const std::set<std::string> documented{
        "id",           "name",         "user",           "uid",        "created",
        "expires",      "expired",      "expiring_soon",  "last_used",  "use_count",
        "max_uses",     "last_service", "last_rhost",     "services",   "sources",
        "hosts",        "description",  "recent_sources", "origin",     "origin_id",
        "rotated_from", "rotated_to",   "grace_until",    "created_by", "orphaned",
        "last_host"};
    EXPECT_EQ(keys, documented) << "apitokenctl(1) documents exactly these";
    EXPECT_EQ(j.at("expires"), "2027-02-13T08:00:00Z");
    EXPECT_EQ(j.at("expired"), false);
    EXPECT_TRUE(j.at("last_used").is_null());
    EXPECT_TRUE(j.at("max_uses").is_null()) << "no limit";
    EXPECT_TRUE(j.at("rotated_to").is_null());
    EXPECT_EQ(j.at("uid"), 61001);
    EXPECT_EQ(j.at("created_by"), 61001);
    EXPECT_EQ(j.at("description"), "");

    t.recent_sources.push_back({"", "sshd", kNow - kDay, kNow, 2});
    t.max_uses = 5;
    t.user.clear();
    const json k = token_json(t, kNow);
    EXPECT_EQ(k.at("max_uses"), 5);
    EXPECT_TRUE(k.at("user").is_null()) << "an older daemon does not say";
    EXPECT_TRUE(k.at("created_by").is_null());
    ASSERT_EQ(k.at("recent_sources").size(), 1U);
    EXPECT_EQ(k.at("recent_sources")[0], (json{{"rhost", nullptr},
                                               {"service", "sshd"},
                                               {"first_used", "2027-01-14T08:00:00Z"},
                                               {"last_used", "2027-01-15T08:00:00Z"},
                                               {"count", 2}}));
}

} // namespace
} // namespace apitoken::cli
