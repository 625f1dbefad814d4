// LookupTokens and RevokeLeakedTokens through the real bus, as plain users,
// an admin and root would call them (design.md "Token policy", README
// "Leak scanning"): what each learns, what each may revoke, the bounds and
// the budget. The CLI on top (`apitokenctl scan`) has its own tests.
#include "ipc/bus_api.hpp"
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"
#include "tests/support/subprocess.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

// The id inside a token's text.
std::string id_of(const std::string& token) {
    return token.substr(store::kTokenPrefix.size(), store::kTokenIdHexLength);
}

class LeakBusTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->write_pam_service("web", "auth required " APITOKEN_PAM_MODULE "\n");
        world->start_daemon();
    }

    std::string create(const TestUser& as, const std::string& user, const std::string& name,
                       std::int64_t expires = 0) {
        const CallResult created = world->call(as, {"create", user, name, std::to_string(expires)});
        EXPECT_TRUE(created.ok()) << created.raw;
        return created.ok() ? created.fields.at(1) : std::string();
    }

    bool logs_in(const std::string& user, const std::string& token) {
        return login_succeeded(world->pamtester(world->root, "web", user, token + "\n"));
    }

    // "ID STATE USER NAME" lines of a lookup, in the order asked.
    std::vector<std::string> lookup(const TestUser& as, const std::vector<std::string>& ids) {
        std::vector<std::string> args{"lookup"};
        args.insert(args.end(), ids.begin(), ids.end());
        const CallResult r = world->call(as, args);
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.lines;
    }
};

// Promise: the state for the caller's own ids, every id for root and
// admins; anyone else's id answers exactly like one that does not exist.
TEST_F(LeakBusTest, OwnersLearnTheStateAndOthersLearnNothing) {
    const std::string live = create(world->alice, "", "ci-upload");
    const std::string gone = create(world->alice, "", "old");
    ASSERT_TRUE(world->call(world->alice, {"revoke", "", id_of(gone)}).ok());
    const std::string soon = create(world->alice, "", "short", std::time(nullptr) + 2);
    std::this_thread::sleep_for(3s); // "short" is past its expiry (only a lower bound matters)
    const std::string made_up(store::generate_token().text.view());
    const std::vector<std::string> ids{id_of(live), id_of(gone), id_of(soon), id_of(made_up),
                                       "not-an-id"};

    EXPECT_EQ(lookup(world->alice, ids),
              (std::vector<std::string>{id_of(live) + " live alice ci-upload",
                                        id_of(gone) + " revoked alice old",
                                        id_of(soon) + " expired alice short",
                                        id_of(made_up) + " unknown - -", "not-an-id unknown - -"}));
    EXPECT_EQ(lookup(world->bob, ids),
              (std::vector<std::string>{id_of(live) + " unknown - -", id_of(gone) + " unknown - -",
                                        id_of(soon) + " unknown - -",
                                        id_of(made_up) + " unknown - -", "not-an-id unknown - -"}))
        << "a plain user learns whether another user's token id exists";
    EXPECT_EQ(lookup(world->admin, {id_of(live), id_of(gone)}),
              (std::vector<std::string>{id_of(live) + " live alice ci-upload",
                                        id_of(gone) + " revoked alice old"}));
    EXPECT_EQ(lookup(world->root, {id_of(soon)}),
              (std::vector<std::string>{id_of(soon) + " expired alice short"}));
}

// The store remembers revoked ids across a restart (schema 4's table).
TEST_F(LeakBusTest, ARevokedIdStaysRevokedAfterARestart) {
    const std::string token = create(world->root, "alice", "deploy");
    ASSERT_TRUE(world->call(world->root, {"revoke", "alice", id_of(token)}).ok());
    ASSERT_EQ(world->stop_daemon(), 0);
    world->start_daemon();
    EXPECT_EQ(lookup(world->alice, {id_of(token)}),
              (std::vector<std::string>{id_of(token) + " revoked alice deploy"}));
}

// Promise: whoever holds a whole token may revoke it; the daemon checks
// the secret first and logs who did it.
TEST_F(LeakBusTest, APlainUserRevokesAColleaguesLeakedToken) {
    const std::string token = create(world->root, "alice", "ci-upload");
    ASSERT_TRUE(logs_in("alice", token));
    const CallResult r = world->call(world->bob, {"revoke-leaked", token});
    ASSERT_TRUE(r.ok()) << r.raw;
    EXPECT_EQ(r.fields, (std::vector<std::string>{id_of(token)}));
    EXPECT_FALSE(logs_in("alice", token)) << "the leaked token still works after its revocation";
    EXPECT_EQ(lookup(world->alice, {id_of(token)}),
              (std::vector<std::string>{id_of(token) + " revoked alice ci-upload"}));
    ASSERT_EQ(world->stop_daemon(), 0);
    const std::string log = world->daemon_log();
    const auto at = log.find("revoked as leaked");
    ASSERT_NE(at, std::string::npos) << log;
    const std::string line = log.substr(log.rfind('\n', at) + 1, log.find('\n', at) - at);
    EXPECT_NE(line.find(id_of(token)), std::string::npos) << line;
    EXPECT_NE(line.find(std::to_string(world->bob.uid)), std::string::npos)
        << "the log does not say who revoked it: " << line;
    EXPECT_EQ(log.find(token.substr(store::kTokenPrefix.size() + store::kTokenIdHexLength)),
              std::string::npos)
        << "the secret reached the log";
}

// Promise: a wrong, unknown, malformed or already revoked token answers
// alike (no oracle), and nothing is revoked without the whole secret.
TEST_F(LeakBusTest, OnlyTheWholeSecretRevokesAndEverythingElseAnswersAlike) {
    const std::string token = create(world->root, "alice", "ci-upload");
    const auto id = store::TokenId::from_hex(id_of(token));
    ASSERT_TRUE(id.has_value());
    // The same id with another secret, with a valid checksum.
    const std::string wrong(store::generate_token(*id).text.view());
    ASSERT_NE(wrong, token);
    const std::string dead = create(world->root, "alice", "dead");
    ASSERT_TRUE(world->call(world->root, {"revoke", "alice", id_of(dead)}).ok());
    const std::string made_up(store::generate_token().text.view());
    for (const std::string& attempt :
         {wrong, dead, made_up, std::string("atk_junk"), token.substr(0, token.size() - 1),
          token + "x", token + std::string(2000, 'a')}) {
        const CallResult r = world->call(world->bob, {"revoke-leaked", attempt});
        EXPECT_TRUE(r.ok()) << r.raw;
        EXPECT_EQ(r.fields, (std::vector<std::string>{"-"}))
            << "answered differently for a token that did not revoke anything";
    }
    EXPECT_TRUE(logs_in("alice", token)) << "a token was revoked without its secret";
    // Mixed in one call: only the real one goes.
    const CallResult mixed = world->call(world->bob, {"revoke-leaked", made_up, token, wrong});
    ASSERT_TRUE(mixed.ok()) << mixed.raw;
    EXPECT_EQ(mixed.fields, (std::vector<std::string>{id_of(token)}));
}

// Bounds per call, refused whole with a clear error and nothing done.
TEST_F(LeakBusTest, TooManyIdsOrTokensInOneCallAreRefused) {
    const std::string token = create(world->root, "alice", "ci-upload");
    std::vector<std::string> ids{"lookup"};
    ids.resize(ipc::kMaxLookupIds + 2, "000000000000");
    CallResult r = world->call(world->bob, ids);
    EXPECT_TRUE(r.refused("InvalidArgument")) << r.raw;
    std::vector<std::string> tokens{"revoke-leaked"};
    tokens.resize(ipc::kMaxLeakedTokens + 1, std::string(store::generate_token().text.view()));
    tokens.push_back(token);
    r = world->call(world->bob, tokens);
    EXPECT_TRUE(r.refused("InvalidArgument")) << r.raw;
    EXPECT_TRUE(logs_in("alice", token)) << "a refused call revoked a token";
    r = world->call(world->bob, {"lookup", std::string(100, 'a')});
    EXPECT_TRUE(r.refused("InvalidArgument")) << r.raw;
}

// Promise: throttled like everything a plain user can call in bulk: a
// caller's lookups are paid from a budget, refused once it is spent; other
// callers (and admins) are not held up by it.
TEST_F(LeakBusTest, APlainUsersLookupBudgetRunsOutAndOthersKeepTheirs) {
    const std::string token = create(world->root, "alice", "ci-upload");
    std::vector<std::string> call{"lookup"};
    call.resize(ipc::kMaxLookupIds + 1, "000000000000");
    const std::size_t calls_in_budget = 16384 / ipc::kMaxLookupIds;
    for (std::size_t i = 0; i < calls_in_budget; ++i) {
        const CallResult r = world->call(world->bob, call);
        ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.raw;
    }
    const CallResult spent = world->call(world->bob, call);
    EXPECT_TRUE(spent.refused("TooManyAttempts")) << spent.raw;
    EXPECT_EQ(lookup(world->alice, {id_of(token)}),
              (std::vector<std::string>{id_of(token) + " live alice ci-upload"}))
        << "another user's budget was spent by bob's lookups";
    const CallResult admin = world->call(world->admin, call);
    EXPECT_TRUE(admin.ok()) << "admins have no budget: " << admin.raw;
}

} // namespace
} // namespace apitoken::testing
