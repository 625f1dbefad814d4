// The token store's token policy operations (update, rotate, consume_use,
// the expiry warning mark, purge_rotated, list_all), recent sources, the
// policy fields' rules, and the per-account (uid) rules.
#include "store/name_rules.hpp"
#include "store/store_error.hpp"
#include "store/store_usage.hpp"
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::store {
namespace {

using testing::at;
using testing::authenticates;
using testing::make_token;
using testing::TempDir;
using testing::TestToken;

template <typename Fn>
StoreError error_of(Fn&& fn) {
    try {
        fn();
    } catch (const StoreError& error) {
        return error;
    }
    ADD_FAILURE() << "expected a StoreError";
    return {StoreErrc::Io, "no error"};
}

// One Argon2id hash for every record that never authenticates: hashing is
// what makes a test slow.
const TokenRecord& prototype() {
    static const TokenRecord proto = make_token("proto", "proto").record;
    return proto;
}

TokenRecord record_of(const std::string& user, const std::string& name, uid_t uid = 1000) {
    TokenRecord record = prototype();
    record.id = TokenId::random();
    record.user = user;
    record.name = name;
    record.uid = uid;
    return record;
}

// The successor rotate() expects for `old`.
TokenRecord successor_of(const TokenRecord& old, const std::string& name) {
    TokenRecord next = record_of(old.user, name, old.uid);
    next.rotated_from = old.id;
    return next;
}

class StorePolicyTest : public ::testing::Test {
protected:
    TempDir dir;
    StoreOptions options = testing::options_for(dir);
    std::optional<TokenStore> store{std::in_place, options};

    void reopen() {
        store.reset();
        store.emplace(options);
    }
};

TEST_F(StorePolicyTest, ListAllIsEveryUsersTokensInIdOrder) {
    std::vector<TokenRecord> records;
    for (const char* user : {"carol", "alice", "bob", "alice"}) {
        records.push_back(record_of(user, "t" + std::to_string(records.size())));
        store->create(records.back());
    }
    std::sort(records.begin(), records.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    EXPECT_EQ(store->list_all(), records);
    store->revoke(records[1].user, records[1].id);
    records.erase(records.begin() + 1);
    EXPECT_EQ(store->list_all(), records);
}

TEST_F(StorePolicyTest, UpdateChangesWhatItNamesAndNothingElse) {
    TokenRecord before = record_of("alice", "deploy");
    before.description = "old";
    before.services = {"sshd"};
    store->create(before);
    TokenUpdate change;
    change.description = "the nightly deploy";
    change.sources = std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"};
    change.hosts = std::vector<std::string>{"web-*"};
    const TokenRecord after = store->update("alice", before.id, change);

    TokenRecord expected = before;
    expected.description = "the nightly deploy";
    expected.sources = {"192.0.2.0/24", "2001:db8::/32"};
    expected.hosts = {"web-*"};
    EXPECT_EQ(after, expected);
    reopen();
    EXPECT_EQ(store->find(before.id), expected) << "an update is durable";

    change = {};
    change.name = "deploy-2";
    change.services = std::vector<std::string>{};
    expected.name = "deploy-2";
    expected.services.clear();
    EXPECT_EQ(store->update("alice", before.id, change), expected);
    EXPECT_EQ(store->update("alice", before.id, TokenUpdate{}), expected) << "nothing to change";
}

TEST_F(StorePolicyTest, UpdateRefusesWhatCreateRefusesAndWritesNothing) {
    const TokenRecord a = record_of("alice", "a");
    const TokenRecord b = record_of("alice", "b");
    store->create_batch(std::vector{a, b});
    TokenUpdate clash;
    clash.name = "b";
    clash.description = "would be lost";
    EXPECT_EQ(error_of([&] { store->update("alice", a.id, clash); }).code(),
              StoreErrc::DuplicateName);
    const std::vector<TokenUpdate> bad = {
        TokenUpdate{.name = std::string("line\nbreak")},
        TokenUpdate{.description = std::string(257, 'x')},
        TokenUpdate{.services = std::vector<std::string>{"../etc"}},
        TokenUpdate{.sources = std::vector<std::string>(kMaxSourcesPerToken + 1, "10.0.0.0/8")},
        TokenUpdate{.hosts = std::vector<std::string>{"has space"}},
    };
    for (const auto& update : bad) {
        EXPECT_EQ(error_of([&] { store->update("alice", a.id, update); }).code(),
                  StoreErrc::InvalidArgument);
    }
    EXPECT_EQ(store->find(a.id), a);
    EXPECT_EQ(error_of([&] { store->update("bob", a.id, TokenUpdate{}); }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] { store->update("alice", TokenId::random(), TokenUpdate{}); }).code(),
              StoreErrc::NotFound);
}

TEST_F(StorePolicyTest, UpdatingTheExpiryMovesItsIndexEntryAndReArmsTheWarning) {
    TokenRecord t = record_of("alice", "t");
    t.expires = at(1'000);
    store->create(t);
    store->set_expiry_warned(t.id);
    ASSERT_TRUE(store->find(t.id)->expiry_warned);

    const auto set_expiry = [&](std::optional<TimePoint> when) {
        TokenUpdate change;
        change.expires = when;
        return store->update("alice", t.id, change);
    };
    EXPECT_EQ(set_expiry(at(50'000)).expires, at(50'000));
    EXPECT_FALSE(store->find(t.id)->expiry_warned) << "a new expiry gets its own warning";
    EXPECT_EQ(store->purge_expired(at(10'000), std::chrono::seconds{0}), 0U)
        << "the old expiry's index entry must be gone";
    EXPECT_TRUE(store->find(t.id));

    EXPECT_EQ(set_expiry(std::nullopt).expires, std::nullopt);
    EXPECT_EQ(store->purge_expired(at(100'000), std::chrono::seconds{0}), 0U);
    EXPECT_TRUE(store->find(t.id));

    set_expiry(at(2'000));
    EXPECT_EQ(store->purge_expired(at(10'000), std::chrono::seconds{0}), 1U);
    EXPECT_FALSE(store->find(t.id));
}

TEST_F(StorePolicyTest, RotationWithGraceKeepsBothWorkingUntilTheGraceEnds) {
    TestToken old = make_token("alice", "deploy");
    old.record.description = "kept";
    store->create(old.record);
    const auto next = make_token("alice", "deploy"); // the same name: the old is on its way out
    TokenRecord successor = next.record;
    successor.rotated_from = old.record.id;
    successor.description = "kept";
    store->rotate("alice", old.record.id, successor, at(5'000));

    const auto rotated = store->find(old.record.id);
    ASSERT_TRUE(rotated);
    EXPECT_EQ(rotated->rotated_to, successor.id);
    EXPECT_EQ(rotated->grace_until, at(5'000));
    EXPECT_EQ(store->find(successor.id), successor);
    EXPECT_TRUE(authenticates(*store, "alice", old.text));
    EXPECT_TRUE(authenticates(*store, "alice", next.text));
    EXPECT_EQ(store->count("alice"), 2U);

    EXPECT_EQ(store->purge_rotated(at(4'999)), 0U);
    EXPECT_TRUE(store->find(old.record.id));
    reopen();
    EXPECT_EQ(store->purge_rotated(at(5'000)), 1U) << "the grace ends at grace_until";
    EXPECT_FALSE(authenticates(*store, "alice", old.text));
    EXPECT_TRUE(authenticates(*store, "alice", next.text));
    EXPECT_EQ(store->count("alice"), 1U) << "the user index follows the purge";
    EXPECT_EQ(store->purge_rotated(at(10'000)), 0U) << "nothing twice";
}

TEST_F(StorePolicyTest, RotationWithoutGraceDeletesTheOldTokenAtOnce) {
    TokenRecord old = record_of("alice", "deploy");
    old.expires = at(1'000);
    store->create(old);
    const TokenRecord successor = successor_of(old, "deploy");
    store->rotate("alice", old.id, successor, std::nullopt);
    EXPECT_FALSE(store->find(old.id));
    EXPECT_EQ(store->find(successor.id), successor);
    EXPECT_EQ(store->list("alice"), std::vector{successor});
    EXPECT_EQ(store->purge_expired(at(10'000), std::chrono::seconds{0}), 0U)
        << "the old token's expiry entry went with it";
}

TEST_F(StorePolicyTest, RotatingATokenInItsGracePeriodIsRefused) {
    const TokenRecord old = record_of("alice", "deploy");
    store->create(old);
    const TokenRecord first = successor_of(old, "deploy");
    store->rotate("alice", old.id, first, at(5'000));
    const TokenRecord second = successor_of(old, "deploy again");
    const StoreError error =
        error_of([&] { store->rotate("alice", old.id, second, std::nullopt); });
    EXPECT_EQ(error.code(), StoreErrc::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("rotated already"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(first.id.hex()), std::string::npos) << error.what();
    EXPECT_FALSE(store->find(second.id));
    EXPECT_EQ(store->find(old.id)->rotated_to, first.id);
    // Its successor may be rotated in turn.
    EXPECT_NO_THROW(store->rotate("alice", first.id, successor_of(first, "deploy"), at(6'000)));
}

TEST_F(StorePolicyTest, RotateRefusesABadSuccessorAndWritesNothing) {
    const TokenRecord old = record_of("alice", "deploy");
    const TokenRecord other = record_of("alice", "other");
    store->create_batch(std::vector{old, other});
    TokenRecord not_linked = successor_of(old, "next");
    not_linked.rotated_from.reset();
    TokenRecord wrong_user = successor_of(old, "next");
    wrong_user.user = "bob";
    TokenRecord same_id = successor_of(old, "next");
    same_id.id = old.id;
    TokenRecord bad_name = successor_of(old, "bad\tname");
    const std::vector<std::pair<TokenRecord, StoreErrc>> cases = {
        {not_linked, StoreErrc::InvalidArgument},
        {wrong_user, StoreErrc::InvalidArgument},
        {same_id, StoreErrc::DuplicateId},
        {bad_name, StoreErrc::InvalidArgument},
        {successor_of(old, "other"), StoreErrc::DuplicateName},
    };
    for (const auto& [bad_successor, expected] : cases) {
        const TokenRecord& successor = bad_successor; // a lambda may not capture a binding
        for (const auto grace : {std::optional(at(5'000)), std::optional<TimePoint>()}) {
            EXPECT_EQ(error_of([&] { store->rotate("alice", old.id, successor, grace); }).code(),
                      expected)
                << successor.name;
            EXPECT_EQ(store->find(old.id), old) << "the old token must be as it was";
        }
    }
    EXPECT_EQ(store->count(), 2U);
    TokenRecord bobs = successor_of(old, "n");
    bobs.user = "bob";
    EXPECT_EQ(error_of([&] { store->rotate("bob", old.id, bobs, std::nullopt); }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(store->find(old.id), old);
}

TEST_F(StorePolicyTest, RotationWorksAtTheMaximumAndGracePeriodsHaveTheirOwn) {
    options.max_tokens_per_user = 2;
    reopen();
    const TokenRecord a = record_of("alice", "a");
    const TokenRecord b = record_of("alice", "b");
    store->create_batch(std::vector{a, b});
    const TokenRecord a2 = successor_of(a, "a");
    const TokenRecord b2 = successor_of(b, "b");
    store->rotate("alice", a.id, a2, at(5'000));
    store->rotate("alice", b.id, b2, at(5'000));
    EXPECT_EQ(store->count("alice"), 4U);
    EXPECT_EQ(error_of([&] { store->create(record_of("alice", "c")); }).code(),
              StoreErrc::TooManyTokens);
    const TokenRecord a3 = successor_of(a2, "a");
    EXPECT_EQ(error_of([&] { store->rotate("alice", a2.id, a3, at(6'000)); }).code(),
              StoreErrc::TooManyTokens)
        << "two tokens in their grace period already";
    EXPECT_FALSE(store->find(a2.id)->rotated());
    EXPECT_NO_THROW(store->rotate("alice", a2.id, a3, std::nullopt)) << "no grace, no new token";
    EXPECT_EQ(store->purge_rotated(at(5'000)), 2U);
    EXPECT_NO_THROW(store->rotate("alice", a3.id, successor_of(a3, "a"), at(6'000)));
}

TEST_F(StorePolicyTest, UsesOfALimitedTokenAreCountedUntilTheLimit) {
    TokenRecord t = record_of("alice", "once-or-twice");
    t.max_uses = 2;
    store->create(t);
    EXPECT_EQ(store->consume_use({t.id, at(100), "sshd", "192.0.2.1"}), UseVerdict::Counted);
    reopen();
    EXPECT_EQ(store->consume_use({t.id, at(200), "sudo", ""}), UseVerdict::Counted);
    const TokenRecord used = *store->find(t.id);
    EXPECT_EQ(used.use_count, 2U);
    EXPECT_EQ(used.last_used, at(200));
    EXPECT_EQ(used.last_service, "sudo");
    EXPECT_EQ(used.recent_sources.size(), 2U);

    EXPECT_EQ(store->consume_use({t.id, at(300), "sshd", "192.0.2.9"}), UseVerdict::Exhausted);
    EXPECT_EQ(store->find(t.id), used) << "a refused use writes nothing";
    store->revoke("alice", t.id);
    EXPECT_EQ(store->consume_use({t.id, at(400), "sshd", ""}), UseVerdict::Gone);
    EXPECT_EQ(store->consume_use({TokenId::random(), at(400), "sshd", ""}), UseVerdict::Gone);
}

TEST_F(StorePolicyTest, ConsumeUseCountsATokenWithoutALimitToo) {
    const TokenRecord t = record_of("alice", "unlimited");
    store->create(t);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(store->consume_use({t.id, at(100 + i), "sshd", ""}), UseVerdict::Counted);
    }
    EXPECT_EQ(store->find(t.id)->use_count, 3U);
}

TEST_F(StorePolicyTest, ExpiryWarnedIsMarkedOnceAndDurably) {
    const TokenRecord t = record_of("alice", "t");
    store->create(t);
    store->set_expiry_warned(t.id);
    store->set_expiry_warned(t.id);
    reopen();
    TokenRecord expected = t;
    expected.expiry_warned = true;
    EXPECT_EQ(store->find(t.id), expected);
    EXPECT_NO_THROW(store->set_expiry_warned(TokenId::random())) << "revoked meanwhile";
}

TEST_F(StorePolicyTest, RecordUsageKeepsTheLastDistinctSourcesMostRecentFirst) {
    const TokenRecord t = record_of("alice", "t");
    store->create(t);
    std::vector<UsageEvent> events;
    events.reserve(12);
    for (int i = 0; i < 10; ++i) {
        events.push_back({t.id, at(1'000 + i), "sshd", "192.0.2." + std::to_string(i)});
    }
    events.push_back({t.id, at(1'020), "sshd", "192.0.2.5"}); // again: to the front
    events.push_back({t.id, at(1'030), "sudo", "192.0.2.5"}); // another service: distinct
    EXPECT_EQ(store->record_usage(events), events.size());
    const auto sources = store->find(t.id)->recent_sources;
    ASSERT_EQ(sources.size(), kMaxRecentSources);
    EXPECT_EQ(sources[0], (RecentSource{"192.0.2.5", "sudo", at(1'030), at(1'030), 1}));
    EXPECT_EQ(sources[1], (RecentSource{"192.0.2.5", "sshd", at(1'005), at(1'020), 2}));
    EXPECT_EQ(sources[2].rhost, "192.0.2.9");
    EXPECT_EQ(sources[7].rhost, "192.0.2.3") << "0, 1 and 2 were the least recently used";
    EXPECT_EQ(store->find(t.id)->use_count, events.size());
}

TEST(RecentSources, ALateUseOlderThanEveryKeptSourceDropsOutAtOnce) {
    TokenRecord r = record_of("alice", "t");
    for (int i = 0; i < 8; ++i) {
        apply_use(r, {r.id, at(1'000 + i), "sshd", "h" + std::to_string(i)});
    }
    const auto before = r.recent_sources;
    apply_use(r, {r.id, at(10), "sshd", "late"});
    EXPECT_EQ(r.recent_sources, before);
    EXPECT_EQ(r.use_count, 9U);
    EXPECT_EQ(r.last_used, at(1'007)) << "a late use is not the last one";
    apply_use(r, {r.id, at(500), "sshd", "h0"});
    EXPECT_EQ(r.recent_sources.back().first_used, at(500)) << "first_used goes back in time";
    EXPECT_EQ(r.recent_sources.back().count, 2U);
}

TEST_F(StorePolicyTest, PolicyFieldsOutsideTheRulesAreRefused) {
    std::vector<TokenRecord> bad(9, record_of("alice", "t"));
    bad[0].description = std::string(kMaxDescriptionChars + 1, 'x');
    bad[1].description = "two\nlines";
    bad[2].sources.assign(kMaxSourcesPerToken + 1, "10.0.0.0/8");
    bad[3].sources = {std::string(kMaxSourceBytes + 1, '1')};
    bad[4].hosts.assign(kMaxHostsPerToken + 1, "h");
    bad[5].hosts = {std::string(kMaxHostBytes + 1, 'h')};
    bad[6].recent_sources.assign(kMaxRecentSources + 1, RecentSource{});
    bad[7].origin = "github";
    bad[8].rotated_to = TokenId::random(); // without the end of its grace period
    for (std::size_t i = 0; i < bad.size(); ++i) {
        EXPECT_EQ(error_of([&] { store->create(bad[i]); }).code(), StoreErrc::InvalidArgument)
            << "case " << i;
    }
    EXPECT_EQ(store->count(), 0U);

    TokenRecord at_the_limits = record_of("alice", "t");
    for (std::size_t i = 0; i < kMaxDescriptionChars; ++i) {
        at_the_limits.description += "\xc3\xa9"; // 256 characters, 512 bytes
    }
    at_the_limits.sources.assign(kMaxSourcesPerToken, std::string(kMaxSourceBytes, '1'));
    at_the_limits.hosts.assign(kMaxHostsPerToken, std::string(kMaxHostBytes, 'h'));
    at_the_limits.recent_sources.assign(kMaxRecentSources, RecentSource{});
    at_the_limits.origin = kOriginJenkins;
    at_the_limits.max_uses = std::numeric_limits<std::uint64_t>::max();
    store->create(at_the_limits);
    EXPECT_EQ(store->find(at_the_limits.id), at_the_limits);
}

TEST(TokenPolicyRules, DescriptionSourcesAndHosts) {
    EXPECT_EQ(description_problem(""), "");
    EXPECT_EQ(description_problem("  spaces anywhere are fine  "), "");
    // An unterminated right-to-left override, on purpose.
    // NOLINTNEXTLINE(misc-misleading-bidirectional)
    EXPECT_NE(description_problem("bidi \xe2\x80\xae override"), "");
    EXPECT_NE(description_problem(std::string(1 << 20, 'x')), "") << "1 MiB";
    EXPECT_EQ(sources_problem({}), "");
    EXPECT_EQ(sources_problem({"10.0.0.0/8", "::/0"}), "");
    EXPECT_NE(sources_problem({""}), "");
    EXPECT_NE(sources_problem({"10.0.0.0/8\n"}), "");
    EXPECT_NE(sources_problem(std::vector<std::string>(10'000, "10.0.0.0/8")), "");
    EXPECT_EQ(hosts_problem({"*.example.org", "db[12]"}), "");
    EXPECT_NE(hosts_problem({"h\xc3\xa9"}), "") << "host names are ASCII";
    EXPECT_NE(hosts_problem({""}), "");
}

// An account deleted and made again (uid 1000, then 2000) under the same
// name: the old tokens belong to nobody.
class OrphanTest : public StorePolicyTest {
protected:
    static constexpr uid_t kOld = 1000;
    static constexpr uid_t kNew = 2000;
    TokenRecord orphan = record_of("alice", "deploy", kOld);

    void SetUp() override { store->create(orphan); }
};

TEST_F(OrphanTest, TheNewAccountMayReuseANameAndIsNotCountedAgainstTheOld) {
    options.max_tokens_per_user = 1;
    reopen();
    const TokenRecord mine = record_of("alice", "deploy", kNew);
    EXPECT_NO_THROW(store->create(mine));
    EXPECT_EQ(error_of([&] { store->create(record_of("alice", "x", kNew)); }).code(),
              StoreErrc::TooManyTokens);
    EXPECT_EQ(error_of([&] { store->create(record_of("alice", "y", kOld)); }).code(),
              StoreErrc::TooManyTokens);
    EXPECT_EQ(store->count("alice"), 2U);
}

TEST_F(OrphanTest, RenameAndUpdateIgnoreTheOrphansNames) {
    const TokenRecord mine = record_of("alice", "mine", kNew);
    store->create(mine);
    EXPECT_NO_THROW(store->rename("alice", mine.id, "deploy", kNew));
    TokenUpdate change;
    change.name = "deploy";
    EXPECT_NO_THROW(store->update("alice", mine.id, change, kNew));
    const TokenRecord second = record_of("alice", "second", kNew);
    store->create(second);
    EXPECT_EQ(error_of([&] { store->rename("alice", second.id, "deploy", kNew); }).code(),
              StoreErrc::DuplicateName);
}

TEST_F(OrphanTest, CallsForTheNewAccountDoNotTouchTheOrphan) {
    const TokenRecord mine = record_of("alice", "mine", kNew);
    store->create(mine);
    EXPECT_EQ(error_of([&] { store->revoke("alice", orphan.id, kNew); }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] { store->rename("alice", orphan.id, "x", kNew); }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] { store->update("alice", orphan.id, {}, kNew); }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] {
                  store->rotate("alice", orphan.id, successor_of(orphan, "n"), std::nullopt, kNew);
              }).code(),
              StoreErrc::NotFound);
    EXPECT_EQ(store->find(orphan.id), orphan);
    EXPECT_EQ(store->revoke_all("alice", kNew), 1U);
    EXPECT_EQ(store->find(orphan.id), orphan);
    EXPECT_FALSE(store->find(mine.id));
}

TEST_F(OrphanTest, AnAdminCallWithoutAUidCleansUpOrphans) {
    store->rename("alice", orphan.id, "renamed");
    EXPECT_EQ(store->find(orphan.id)->name, "renamed");
    store->create(record_of("alice", "mine", kNew));
    store->create(record_of("alice", "other", kOld));
    store->revoke("alice", orphan.id);
    EXPECT_FALSE(store->find(orphan.id));
    EXPECT_EQ(store->revoke_all("alice"), 2U);
    EXPECT_EQ(store->count("alice"), 0U);
}

} // namespace
} // namespace apitoken::store
