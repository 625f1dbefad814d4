// The daemon's hourly upkeep (daemon/token_upkeep.*) against a real LMDB
// store in a temporary directory: each run is told what time it is, and the
// user directory is a table the test writes, so nothing depends on the
// clock, on timing or on the machine's users.
#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "daemon/token_upkeep.hpp"
#include "daemon/user_directory.hpp"
#include "store/token_format.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace apitoken::daemon {
namespace {

using std::chrono::days;
using store::TimePoint;
using store::TokenId;
using store::TokenRecord;

constexpr TimePoint kNow{std::chrono::seconds{1'900'000'000}};

// One Argon2id hash for every record: these tokens never authenticate.
const TokenRecord& prototype() {
    static const TokenRecord proto = apitoken::testing::make_token("proto", "proto").record;
    return proto;
}

class TokenUpkeepTest : public ::testing::Test {
protected:
    apitoken::testing::TempDir dir{"apitoken-upkeep"};
    Config config;
    std::FILE* log_file = std::tmpfile();
    AuditLog log{false, log_file};
    store::TokenStore store{apitoken::testing::options_for(dir)};
    // The user directory as the test says it is now: name -> uid; a name
    // in `failing` makes the lookup fail (LDAP down).
    std::map<std::string, uid_t, std::less<>> users{{"alice", 1000}, {"bob", 2000}};
    std::set<std::string, std::less<>> failing;
    std::size_t lookups = 0;
    TokenUpkeep upkeep{config, store, log, [this](std::string_view name) {
                           ++lookups;
                           if (failing.contains(name)) {
                               throw UserDirectoryError("user database lookup failed: test");
                           }
                           const auto it = users.find(name);
                           return it == users.end()
                                      ? std::nullopt
                                      : std::optional<UserEntry>({it->first, it->second});
                       }};

    ~TokenUpkeepTest() override { static_cast<void>(std::fclose(log_file)); }
    TokenUpkeepTest() = default;

public:
    TokenUpkeepTest(const TokenUpkeepTest&) = delete;
    TokenUpkeepTest& operator=(const TokenUpkeepTest&) = delete;
    TokenUpkeepTest(TokenUpkeepTest&&) = delete;
    TokenUpkeepTest& operator=(TokenUpkeepTest&&) = delete;

protected:
    // A token of `user` (with the uid the directory gives them, unless
    // told), made 200 days ago, never used, never expiring.
    TokenRecord token(const std::string& user, const std::string& name,
                      std::optional<uid_t> uid = std::nullopt) {
        TokenRecord record = prototype();
        record.id = TokenId::random();
        record.user = user;
        record.uid = uid ? *uid : users.at(user);
        record.name = name;
        record.created = kNow - days{200};
        return record;
    }
    TokenRecord stored(TokenRecord record) {
        store.create(record);
        return record;
    }
    [[nodiscard]] bool present(const TokenRecord& record) const {
        return store.find(record.id).has_value();
    }

    std::string log_text() {
        static_cast<void>(std::fflush(log_file));
        std::rewind(log_file);
        std::string text;
        for (int c = std::fgetc(log_file); c != EOF; c = std::fgetc(log_file)) {
            text.push_back(static_cast<char>(c));
        }
        return text;
    }
    // Log lines that hold both `what` and `also`.
    std::size_t lines_with(std::string_view what, std::string_view also = {}) {
        const std::string text = log_text();
        std::size_t n = 0;
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) {
                end = text.size();
            }
            const std::string_view line(text.data() + start, end - start);
            if (line.find(what) != std::string_view::npos &&
                line.find(also) != std::string_view::npos) {
                ++n;
            }
            start = end + 1;
        }
        return n;
    }
};

// A token never used enters the expiry_warning window: one "expires soon"
// event, not before the window, and not again at the next runs.
TEST_F(TokenUpkeepTest, ExpiringTokenIsWarnedOnceInTheWindowAndNotBefore) {
    config.expiry_warning = days{7};
    TokenRecord record = token("alice", "deploy");
    record.expires = kNow + days{10};
    stored(record);
    const TokenRecord later = stored([&] {
        TokenRecord r = token("alice", "later");
        r.expires = kNow + days{30};
        return r;
    }());
    const std::string id = record.id.hex();

    upkeep.run(kNow); // 10 days left: outside the window
    EXPECT_EQ(lines_with("token expires soon"), 0U) << log_text();
    EXPECT_FALSE(store.find(record.id)->expiry_warned);

    upkeep.run(kNow + days{3}); // exactly 7 days left: the window's edge
    EXPECT_EQ(lines_with("token expires soon", id), 1U) << log_text();
    EXPECT_TRUE(store.find(record.id)->expiry_warned);

    upkeep.run(kNow + days{4});
    upkeep.run(kNow + days{9});
    EXPECT_EQ(lines_with("token expires soon", id), 1U) << "warned twice:\n" << log_text();
    EXPECT_EQ(lines_with("token expires soon"), 1U)
        << "a token 20 days from its expiry was warned about:\n"
        << log_text();
    EXPECT_FALSE(store.find(later.id)->expiry_warned);
}

// max_idle: a token unused (or never used) for max_idle stops working and
// is deleted expired_retention later; one used since stays.
TEST_F(TokenUpkeepTest, IdleTokensGoAfterMaxIdleAndTheRetention) {
    config.max_idle = days{90};
    config.expired_retention = days{30};
    const TokenRecord never_used = stored(token("alice", "never-used")); // made 200 days ago
    const TokenRecord used_lately = stored([&] {
        TokenRecord r = token("alice", "used-lately");
        r.last_used = kNow - days{10};
        return r;
    }());
    const TokenRecord idle_in_retention = stored([&] {
        TokenRecord r = token("bob", "idle-100-days");
        r.last_used = kNow - days{100}; // past max_idle, not past the retention
        return r;
    }());
    const TokenRecord idle_long = stored([&] {
        TokenRecord r = token("bob", "idle-121-days");
        r.last_used = kNow - days{121};
        return r;
    }());

    upkeep.run(kNow);
    EXPECT_FALSE(present(never_used));
    EXPECT_FALSE(present(idle_long));
    EXPECT_TRUE(present(used_lately));
    EXPECT_TRUE(present(idle_in_retention));
    EXPECT_EQ(lines_with("deleted 2 tokens unused for longer than max_idle"), 1U) << log_text();
}

TEST_F(TokenUpkeepTest, WithoutMaxIdleIdleTokensStay) {
    const TokenRecord never_used = stored(token("alice", "never-used"));
    upkeep.run(kNow + days{3650});
    EXPECT_TRUE(present(never_used));
}

// A rotated token works until its grace period ends; the next run after
// that deletes it, and its successor stays.
TEST_F(TokenUpkeepTest, RotatedTokenGoesWhenItsGraceIsOver) {
    const TokenRecord old = stored(token("alice", "deploy"));
    TokenRecord successor = token("alice", "deploy");
    successor.created = kNow;
    successor.rotated_from = old.id;
    store.rotate("alice", old.id, successor, kNow + days{2});

    upkeep.run(kNow + days{1});
    EXPECT_TRUE(present(old)) << "deleted within its grace period";
    upkeep.run(kNow + days{2});
    EXPECT_FALSE(present(old));
    EXPECT_TRUE(present(successor));
    EXPECT_EQ(lines_with("deleted 1 rotated tokens whose grace period was over"), 1U) << log_text();
}

// An expired token is kept expired_retention (to be seen in lists), then
// deleted.
TEST_F(TokenUpkeepTest, ExpiredTokenGoesAfterTheRetention) {
    config.expired_retention = days{30};
    const auto expiring = [&](const std::string& name, TimePoint when) {
        TokenRecord r = token("alice", name);
        r.expires = when;
        return stored(r);
    };
    const TokenRecord long_ago = expiring("long-ago", kNow - days{31});
    const TokenRecord lately = expiring("lately", kNow - days{29});
    const TokenRecord live = expiring("live", kNow + days{100});
    const TokenRecord forever = stored(token("bob", "forever"));

    upkeep.run(kNow);
    EXPECT_FALSE(present(long_ago));
    EXPECT_TRUE(present(lately)) << "deleted within expired_retention";
    EXPECT_TRUE(present(live));
    EXPECT_TRUE(present(forever));
    EXPECT_EQ(lines_with("deleted 1 tokens that expired more than"), 1U) << log_text();

    upkeep.run(kNow + days{2});
    EXPECT_FALSE(present(lately));
    EXPECT_TRUE(present(live));
    EXPECT_TRUE(present(forever));
}

// Orphans: an account made again with another uid loses its old tokens at
// the next run; a deleted account (the directory knows no such user) loses
// them once the directory still says so at the run after; live users keep
// theirs.
TEST_F(TokenUpkeepTest, OrphanedTokensGoAndLiveUsersTokensStay) {
    const TokenRecord alice = stored(token("alice", "deploy"));
    const TokenRecord bob_old = stored(token("bob", "deploy", 1500)); // bob's earlier account
    const TokenRecord bob = stored(token("bob", "deploy"));
    const TokenRecord carol = stored(token("carol", "deploy", 3000)); // carol is gone
    ASSERT_FALSE(users.contains("carol"));

    upkeep.run(kNow);
    EXPECT_FALSE(present(bob_old)) << "the earlier account's token outlived the hour";
    EXPECT_TRUE(present(bob));
    EXPECT_TRUE(present(alice));
    EXPECT_TRUE(present(carol)) << "deleted on the directory's first \"no such user\"";
    EXPECT_EQ(lines_with("deleted 1 orphaned tokens"), 1U) << log_text();

    upkeep.run(kNow + std::chrono::hours{1});
    EXPECT_FALSE(present(carol)) << "a deleted user's token outlived the next run";
    EXPECT_TRUE(present(bob));
    EXPECT_TRUE(present(alice));
    EXPECT_EQ(lines_with("deleted 1 orphaned tokens"), 2U) << log_text();

    upkeep.run(kNow + std::chrono::hours{2});
    EXPECT_TRUE(present(bob));
    EXPECT_TRUE(present(alice));
    EXPECT_EQ(store.count(), 2U);
}

// A user the directory did not know for one run (not up yet at boot, a
// moment's outage) and knows again keeps every token.
TEST_F(TokenUpkeepTest, AUserUnknownForOneRunKeepsTheirTokens) {
    const TokenRecord alice = stored(token("alice", "deploy"));
    users.erase("alice");
    upkeep.run(kNow);
    users.emplace("alice", 1000);
    upkeep.run(kNow + std::chrono::hours{1});
    users.erase("alice");
    upkeep.run(kNow + std::chrono::hours{2});
    EXPECT_TRUE(present(alice)) << "unknown at two runs, but not at two runs in a row";
}

// A directory that cannot answer costs no tokens, however often it fails,
// and the sweep stops at the first failure instead of asking on.
TEST_F(TokenUpkeepTest, AFailingDirectoryCostsNoTokens) {
    const TokenRecord alice_old = stored(token("alice", "deploy", 999));
    const TokenRecord carol = stored(token("carol", "deploy", 3000));
    failing = {"alice", "carol"};
    for (int hour = 0; hour < 3; ++hour) {
        upkeep.run(kNow + std::chrono::hours{hour});
    }
    EXPECT_TRUE(present(alice_old));
    EXPECT_TRUE(present(carol));
    EXPECT_EQ(lookups, 3U) << "asked on after the directory failed";
    EXPECT_EQ(lines_with("kept orphaned tokens for now"), 3U) << log_text();

    failing.clear();
    upkeep.run(kNow + std::chrono::hours{3});
    EXPECT_FALSE(present(alice_old)) << "the directory is back: another uid is an answer";
    EXPECT_TRUE(present(carol)) << "carol was never reported unknown before";
    upkeep.run(kNow + std::chrono::hours{4});
    EXPECT_FALSE(present(carol));
}

// A run that found a user and then failed on a later one leaves that user
// known: unknown before and after it is not "two runs in a row".
TEST_F(TokenUpkeepTest, AUserFoundByARunThatFailedLaterIsNotUnknownAnyMore) {
    const TokenRecord alice = stored(token("alice", "deploy"));
    users.emplace("zed", 4000);
    const TokenRecord zed = stored(token("zed", "deploy"));
    users.erase("alice");
    upkeep.run(kNow); // alice unknown
    users.emplace("alice", 1000);
    failing = {"zed"};
    upkeep.run(kNow + std::chrono::hours{1}); // alice found, then zed fails
    failing.clear();
    users.erase("alice");
    upkeep.run(kNow + std::chrono::hours{2}); // alice unknown again: the first time in a row
    EXPECT_TRUE(present(alice)) << "a live user's tokens went after a failed run";
    EXPECT_TRUE(present(zed));
}

// Most users gone at once is a broken directory (an outage answering "no
// such user" for over an hour), not a mass deletion: nobody's tokens go.
TEST_F(TokenUpkeepTest, WhenMostUsersSeemGoneAtOnceNoTokensGo) {
    std::vector<TokenRecord> tokens;
    for (int i = 0; i < 12; ++i) {
        const std::string name = "user" + std::to_string(i);
        users.emplace(name, static_cast<uid_t>(5000 + i));
        tokens.push_back(stored(token(name, "deploy")));
    }
    const auto directory = users;
    users.clear();
    upkeep.run(kNow);
    upkeep.run(kNow + std::chrono::hours{1});
    for (const TokenRecord& t : tokens) {
        EXPECT_TRUE(present(t)) << t.user;
    }
    EXPECT_EQ(lines_with("kept the tokens of 12 of 12 users"), 1U) << log_text();
    // Back, with one user really deleted: that one goes, the others stay.
    users = directory;
    users.erase("user0");
    upkeep.run(kNow + std::chrono::hours{2});
    EXPECT_FALSE(present(tokens.front())) << "unknown at three runs in a row, alone";
    for (std::size_t i = 1; i < tokens.size(); ++i) {
        EXPECT_TRUE(present(tokens[i])) << tokens[i].user;
    }
}

// In fleet mode another uid here may be this host's NSS, not a deleted
// account: the hourly run deletes no orphan.
TEST_F(TokenUpkeepTest, FleetModeKeepsOrphans) {
    config.fleet_database = "host=/nonexistent";
    const TokenRecord bob_old = stored(token("bob", "deploy", 1500));
    const TokenRecord carol = stored(token("carol", "deploy", 3000));
    upkeep.run(kNow);
    upkeep.run(kNow + std::chrono::hours{1});
    EXPECT_TRUE(present(bob_old));
    EXPECT_TRUE(present(carol));
    EXPECT_EQ(lookups, 0U);
}

} // namespace
} // namespace apitoken::daemon
