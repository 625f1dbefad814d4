#include "store/record_codec.hpp"
#include "store/store_error.hpp"
#include "store/store_keys.hpp"
#include "store/token_store.hpp"
#include "tests/support/record_fixture.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::store {
namespace {

using testing::at;
using testing::authenticates;
using testing::make_token;
using testing::TempDir;
using testing::TestToken;

template <typename Fn>
StoreErrc error_of(Fn&& fn) {
    try {
        fn();
    } catch (const StoreError& error) {
        return error.code();
    }
    ADD_FAILURE() << "expected a StoreError";
    return StoreErrc::Io;
}

class TokenStoreTest : public ::testing::Test {
protected:
    TempDir dir;
    StoreOptions options = testing::options_for(dir);
    std::optional<TokenStore> store{std::in_place, options};

    void reopen() {
        store.reset();
        store.emplace(options);
    }
};

TEST_F(TokenStoreTest, CreatedTokenIsFoundListedCountedAndAuthenticates) {
    const TestToken t = make_token("alice", "ci-upload");
    store->create(t.record);
    EXPECT_EQ(store->find(t.record.id), t.record);
    ASSERT_EQ(store->list("alice").size(), 1U);
    EXPECT_EQ(store->list("alice")[0], t.record);
    EXPECT_TRUE(store->list("bob").empty());
    EXPECT_EQ(store->count(), 1U);
    EXPECT_EQ(store->count("alice"), 1U);
    EXPECT_TRUE(authenticates(*store, "alice", t.text));
    EXPECT_FALSE(authenticates(*store, "bob", t.text));
}

TEST_F(TokenStoreTest, RecordsSurviveReopeningTheStore) {
    TestToken t = make_token("alice", "ci-upload");
    t.record.expires = at(1'900'000'000);
    t.record.services = {"sshd", "vsftpd"};
    store->create(t.record);
    const TestToken u = make_token("bob", "mail");
    store->create(u.record);
    const UsageEvent use{t.record.id, at(1'800'000'100), "sshd", "192.0.2.1"};
    store->record_usage({&use, 1});

    reopen();
    auto expected = t.record;
    expected.use_count = 1;
    expected.last_used = use.when;
    expected.last_service = "sshd";
    expected.last_rhost = "192.0.2.1";
    expected.recent_sources = {{"192.0.2.1", "sshd", use.when, use.when, 1}};
    EXPECT_EQ(store->find(t.record.id), expected);
    EXPECT_EQ(store->find(u.record.id), u.record);
    EXPECT_EQ(store->count(), 2U);
    EXPECT_TRUE(authenticates(*store, "alice", t.text));
    EXPECT_TRUE(authenticates(*store, "bob", u.text));
}

TEST_F(TokenStoreTest, RevokingOneTokenLeavesTheOthersWorking) {
    const TestToken a = make_token("alice", "a");
    const TestToken b = make_token("alice", "b", at(1'800'000'001));
    const TestToken c = make_token("alice", "c", at(1'800'000'002));
    const TestToken other = make_token("bob", "a");
    for (const auto* t : {&a, &b, &c, &other}) {
        store->create(t->record);
    }
    store->revoke("alice", b.record.id);

    EXPECT_FALSE(authenticates(*store, "alice", b.text));
    EXPECT_FALSE(store->find(b.record.id).has_value());
    EXPECT_TRUE(authenticates(*store, "alice", a.text));
    EXPECT_TRUE(authenticates(*store, "alice", c.text));
    EXPECT_TRUE(authenticates(*store, "bob", other.text));
    const auto left = store->list("alice");
    ASSERT_EQ(left.size(), 2U);
    EXPECT_EQ(left[0].name, "a");
    EXPECT_EQ(left[1].name, "c");
    reopen();
    EXPECT_FALSE(authenticates(*store, "alice", b.text)) << "revocation must be durable";
}

TEST_F(TokenStoreTest, AnotherUsersTokenCannotBeRevokedOrRenamed) {
    const TestToken t = make_token("alice", "mine");
    store->create(t.record);
    EXPECT_EQ(error_of([&] { store->revoke("mallory", t.record.id); }), StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] { store->rename("mallory", t.record.id, "gotcha"); }),
              StoreErrc::NotFound);
    EXPECT_EQ(error_of([&] { store->revoke("alice", TokenId::random()); }), StoreErrc::NotFound);
    EXPECT_EQ(store->find(t.record.id), t.record);
    EXPECT_EQ(store->revoke_all("mallory"), 0U);
    EXPECT_TRUE(authenticates(*store, "alice", t.text));
}

TEST_F(TokenStoreTest, RevokeAllRemovesOnlyThatUsersTokens) {
    const TestToken a1 = make_token("alice", "1");
    const TestToken a2 = make_token("alice", "2");
    const TestToken b1 = make_token("bob", "1");
    store->create_batch(std::vector{a1.record, a2.record, b1.record});
    EXPECT_EQ(store->revoke_all("alice"), 2U);
    EXPECT_FALSE(authenticates(*store, "alice", a1.text));
    EXPECT_FALSE(authenticates(*store, "alice", a2.text));
    EXPECT_TRUE(authenticates(*store, "bob", b1.text));
    EXPECT_EQ(store->count("alice"), 0U);
    EXPECT_EQ(store->count(), 1U);
    // The names are free again.
    EXPECT_NO_THROW(store->create(make_token("alice", "1").record));
}

TEST_F(TokenStoreTest, NamesAreUniquePerUserOnly) {
    store->create(make_token("alice", "deploy").record);
    EXPECT_EQ(error_of([&] { store->create(make_token("alice", "deploy").record); }),
              StoreErrc::DuplicateName);
    EXPECT_NO_THROW(store->create(make_token("bob", "deploy").record));
    EXPECT_NO_THROW(store->create(make_token("alice", "Deploy").record));
    EXPECT_EQ(store->count("alice"), 2U);
}

TEST_F(TokenStoreTest, RenameChecksNameAndUniqueness) {
    const TestToken a = make_token("alice", "old");
    const TestToken b = make_token("alice", "taken");
    store->create_batch(std::vector{a.record, b.record});
    store->rename("alice", a.record.id, "new name");
    EXPECT_EQ(store->find(a.record.id)->name, "new name");
    EXPECT_NO_THROW(store->rename("alice", a.record.id, "new name"))
        << "renaming to itself is fine";
    EXPECT_EQ(error_of([&] { store->rename("alice", a.record.id, "taken"); }),
              StoreErrc::DuplicateName);
    EXPECT_EQ(error_of([&] { store->rename("alice", a.record.id, ""); }),
              StoreErrc::InvalidArgument);
    EXPECT_EQ(error_of([&] { store->rename("alice", a.record.id, std::string(65, 'x')); }),
              StoreErrc::InvalidArgument);
    EXPECT_EQ(store->find(a.record.id)->name, "new name");
    EXPECT_TRUE(authenticates(*store, "alice", a.text)) << "a rename does not change the secret";
}

TEST_F(TokenStoreTest, MaximumTokensPerUserIsEnforced) {
    options.max_tokens_per_user = 3;
    reopen();
    for (int i = 0; i < 3; ++i) {
        store->create(make_token("alice", "t" + std::to_string(i)).record);
    }
    EXPECT_EQ(error_of([&] { store->create(make_token("alice", "one too many").record); }),
              StoreErrc::TooManyTokens);
    EXPECT_NO_THROW(store->create(make_token("bob", "t0").record));
    EXPECT_EQ(store->count("alice"), 3U);
}

TEST_F(TokenStoreTest, DuplicateIdIsRefusedWithoutOverwriting) {
    const TestToken t = make_token("alice", "first");
    store->create(t.record);
    TestToken clash = make_token("bob", "second");
    clash.record.id = t.record.id;
    EXPECT_EQ(error_of([&] { store->create(clash.record); }), StoreErrc::DuplicateId);
    EXPECT_EQ(store->find(t.record.id), t.record);
    EXPECT_EQ(store->count("bob"), 0U);
}

TEST_F(TokenStoreTest, InvalidRecordsAreRefusedAndNothingIsWritten) {
    auto bad_name = make_token("alice", "x").record;
    bad_name.name = "line\nbreak";
    auto bad_service = make_token("alice", "y").record;
    bad_service.services = {"../../etc/passwd"};
    auto bad_user = make_token("alice", "z").record;
    bad_user.user = "";
    auto bad_hash = make_token("alice", "w").record;
    bad_hash.hash = "plaintext";
    auto too_many_services = make_token("alice", "v").record;
    too_many_services.services.assign(33, "sshd");
    for (const auto& record : {bad_name, bad_service, bad_user, bad_hash, too_many_services}) {
        EXPECT_EQ(error_of([&] { store->create(record); }), StoreErrc::InvalidArgument)
            << record.name;
    }
    EXPECT_EQ(store->count(), 0U);
}

TEST_F(TokenStoreTest, BatchCreateIsAllOrNothing) {
    const TestToken good = make_token("alice", "good");
    TestToken bad = make_token("alice", "good"); // duplicate name inside the batch
    EXPECT_EQ(error_of([&] {
                  store->create_batch(std::vector{good.record, bad.record});
              }),
              StoreErrc::DuplicateName);
    EXPECT_EQ(store->count(), 0U);
    EXPECT_FALSE(store->find(good.record.id));
}

TEST_F(TokenStoreTest, UsageIsRecordedInBatchesAndDroppedForRevokedTokens) {
    const TestToken a = make_token("alice", "a");
    const TestToken b = make_token("alice", "b");
    store->create_batch(std::vector{a.record, b.record});
    store->revoke("alice", b.record.id);
    const std::vector<UsageEvent> events{
        {a.record.id, at(1'800'000'010), "sshd", "192.0.2.1"},
        {a.record.id, at(1'800'000'030), "vsftpd", "192.0.2.3"},
        {a.record.id, at(1'800'000'020), "dovecot", "192.0.2.2"}, // late arrival
        {b.record.id, at(1'800'000'040), "sshd", "192.0.2.4"},
    };
    EXPECT_EQ(store->record_usage(events), 3U);
    const auto record = store->find(a.record.id);
    EXPECT_EQ(record->use_count, 3U);
    EXPECT_EQ(record->last_used, at(1'800'000'030));
    EXPECT_EQ(record->last_service, "vsftpd");
    EXPECT_EQ(record->last_rhost, "192.0.2.3");
    EXPECT_FALSE(store->find(b.record.id)) << "usage must not resurrect a revoked token";
}

TEST_F(TokenStoreTest, ReplaceHashOnlySwapsTheExpectedHash) {
    const TestToken t = make_token("alice", "a");
    store->create(t.record);
    const std::string stronger = hash_token(t.text, {2, HashParams::defaults().memlimit});
    EXPECT_FALSE(store->replace_hash(t.record.id, "stale", stronger));
    EXPECT_EQ(store->find(t.record.id)->hash, t.record.hash);
    EXPECT_TRUE(store->replace_hash(t.record.id, t.record.hash, stronger));
    EXPECT_EQ(store->find(t.record.id)->hash, stronger);
    EXPECT_TRUE(authenticates(*store, "alice", t.text));
    store->revoke("alice", t.record.id);
    EXPECT_FALSE(store->replace_hash(t.record.id, stronger, t.record.hash));
    EXPECT_FALSE(store->find(t.record.id));
}

TEST_F(TokenStoreTest, PurgeDeletesOnlyTokensExpiredLongerThanTheGrace) {
    TestToken long_gone = make_token("alice", "long gone");
    long_gone.record.expires = at(1'000);
    TestToken just_expired = make_token("alice", "just expired");
    just_expired.record.expires = at(9'500);
    TestToken valid = make_token("alice", "valid");
    valid.record.expires = at(20'000);
    const TestToken forever = make_token("bob", "forever");
    store->create_batch(
        std::vector{long_gone.record, just_expired.record, valid.record, forever.record});

    EXPECT_EQ(store->purge_expired(at(10'000), std::chrono::seconds{1'000}), 1U);
    EXPECT_FALSE(store->find(long_gone.record.id));
    EXPECT_TRUE(store->find(just_expired.record.id));
    EXPECT_TRUE(store->find(valid.record.id));
    EXPECT_TRUE(store->find(forever.record.id));
    EXPECT_EQ(store->count("alice"), 2U) << "the user index follows the purge";
}

TEST_F(TokenStoreTest, PurgeFollowsRevokesAndDeletesExactlyWhatExpiredBeforeTheCutOff) {
    std::vector<TestToken> tokens;
    for (int i = 0; i < 40; ++i) {
        TestToken t = make_token(i % 2 == 0 ? "alice" : "bob", "t" + std::to_string(i));
        // Expiries out of creation order: the index sorts them by time.
        t.record.expires = at(1'000 + ((i * 7919) % 40) * 100);
        tokens.push_back(t);
    }
    options.max_tokens_per_user = 100;
    reopen();
    for (const auto& t : tokens) {
        store->create(t.record);
    }
    store->revoke(tokens[0].record.user, tokens[0].record.id);
    EXPECT_EQ(store->revoke_all("bob"), 20U);
    const auto cutoff = at(3'000);
    std::size_t expected = 0;
    for (const auto& t : tokens) {
        expected += t.record.user == "alice" && t.record.id != tokens[0].record.id &&
                    *t.record.expires <= cutoff;
    }
    ASSERT_GT(expected, 3U);
    EXPECT_EQ(store->purge_expired(cutoff, std::chrono::seconds{0}), expected);
    for (const auto& t : tokens) {
        const bool kept = t.record.user == "alice" && t.record.id != tokens[0].record.id &&
                          *t.record.expires > cutoff;
        EXPECT_EQ(store->find(t.record.id).has_value(), kept) << t.record.name;
    }
    EXPECT_EQ(store->purge_expired(cutoff, std::chrono::seconds{0}), 0U) << "nothing twice";
    EXPECT_EQ(store->purge_expired(at(100'000), std::chrono::seconds{0}), 20U - 1 - expected);
    EXPECT_EQ(store->count(), 0U);
}

TEST_F(TokenStoreTest, AStoreWhoseDirectoryWasRemovedRefusesToWrite) {
    const TestToken kept = make_token("alice", "kept");
    store->create(kept.record);
    EXPECT_TRUE(store->still_in_place());
    std::filesystem::remove_all(options.state_dir);
    EXPECT_FALSE(store->still_in_place());
    EXPECT_EQ(error_of([&] { store->create(make_token("alice", "lost").record); }),
              StoreErrc::StateDirUnusable)
        << "a write nobody would ever read again must not be acknowledged";
    EXPECT_EQ(store->find(kept.record.id), kept.record) << "reading what is open still works";
}

TEST_F(TokenStoreTest, FullMapGrowsUpToTheMaximumThenSaysSoAndKeepsData) {
    options.initial_map_size = std::size_t{64} << 10U;
    options.max_map_size = std::size_t{512} << 10U;
    options.max_tokens_per_user = 1'000'000;
    reopen();
    const std::size_t initial = store->map_size();
    std::vector<TestToken> created;
    StoreErrc failure = StoreErrc::Io;
    const TestToken proto = make_token("u", "proto");
    for (int i = 0; i < 100'000; ++i) {
        TestToken t = proto;
        t.record.id = TokenId::random();
        t.record.user = "user" + std::to_string(i);
        try {
            store->create(t.record);
            created.push_back(t);
        } catch (const StoreError& error) {
            failure = error.code();
            EXPECT_NE(std::string(error.what()).find("full"), std::string::npos) << error.what();
            break;
        }
    }
    EXPECT_EQ(failure, StoreErrc::Full);
    EXPECT_GT(store->map_size(), initial) << "the map should have grown before giving up";
    EXPECT_EQ(store->map_size(), options.max_map_size);
    EXPECT_EQ(store->count(), created.size());
    reopen();
    EXPECT_EQ(store->count(), created.size());
    EXPECT_EQ(store->find(created.back().record.id), created.back().record);
}

// Changes the store's LMDB file behind TokenStore's back, in one write
// transaction: `change` gets the transaction and returns an LMDB code.
void change_raw_lmdb(const TempDir& dir, const std::function<int(MDB_txn*)>& change) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
    ASSERT_EQ(mdb_env_open(env, (dir / "state").c_str(), 0, 0600), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    ASSERT_EQ(change(txn), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

// Reads one value of the store's LMDB file behind TokenStore's back.
std::optional<std::string> read_raw_lmdb(const TempDir& dir, const char* table,
                                         std::string_view key) {
    std::optional<std::string> found;
    change_raw_lmdb(dir, [&](MDB_txn* txn) {
        MDB_dbi dbi = 0;
        if (const int rc = mdb_dbi_open(txn, table, 0, &dbi); rc != 0) {
            return rc == MDB_NOTFOUND ? 0 : rc;
        }
        MDB_val k{key.size(), const_cast<char*>(key.data())};
        MDB_val v{};
        if (mdb_get(txn, dbi, &k, &v) == 0) {
            found.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
        }
        return 0;
    });
    return found;
}

std::uint32_t raw_schema_version(const TempDir& dir) {
    return decode_u32(read_raw_lmdb(dir, "meta", "schema_version").value_or("")).value_or(0);
}

// A store written by an older build: this build acting as `schema`, its
// records then written back in record format 1 (what every build before
// schema 3 wrote), without the tables that build would not have had
// (by_grace; before schema 2, by_expiry too).
void make_old_store(const TempDir& dir, std::uint32_t schema,
                    const std::vector<TokenRecord>& records,
                    std::size_t initial_map_size = std::size_t{1} << 20U) {
    StoreOptions old_build = testing::options_for(dir);
    old_build.schema_version = schema;
    old_build.initial_map_size = initial_map_size;
    old_build.max_tokens_per_user = records.size();
    {
        TokenStore store(old_build);
        store.create_batch(records);
    }
    change_raw_lmdb(dir, [&](MDB_txn* txn) {
        MDB_dbi tokens = 0;
        int rc = mdb_dbi_open(txn, "tokens", 0, &tokens);
        for (const auto& record : records) {
            std::string bytes = testing::format1_record_bytes(record);
            MDB_val key{TokenId::kBytes, const_cast<char*>(record.id.key().data())};
            MDB_val value{bytes.size(), bytes.data()};
            rc = rc != 0 ? rc : mdb_put(txn, tokens, &key, &value, 0);
        }
        std::vector<const char*> added = {"by_grace"};
        if (schema < 2) {
            added.push_back("by_expiry");
        }
        for (const char* table : added) {
            MDB_dbi dbi = 0;
            rc = rc != 0 ? rc : mdb_dbi_open(txn, table, 0, &dbi);
            rc = rc != 0 ? rc : mdb_drop(txn, dbi, 1);
        }
        return rc;
    });
}

std::vector<TokenRecord> records_of(const std::vector<TestToken>& tokens) {
    std::vector<TokenRecord> records;
    records.reserve(tokens.size());
    for (const auto& t : tokens) {
        records.push_back(t.record);
    }
    return records;
}

void make_schema_one_store(const TempDir& dir, const std::vector<TestToken>& tokens) {
    make_old_store(dir, 1, records_of(tokens));
}

TEST(TokenStoreSchema, FirstReleaseStoreIsUpgradedWithItsExpiringTokensIndexed) {
    TempDir dir;
    TestToken expired = make_token("alice", "expired");
    expired.record.expires = at(1'000);
    TestToken valid = make_token("alice", "valid");
    valid.record.expires = at(50'000);
    const TestToken forever = make_token("alice", "forever");
    make_schema_one_store(dir, {expired, valid, forever});
    {
        TokenStore upgraded(testing::options_for(dir));
        EXPECT_EQ(upgraded.count(), 3U);
        EXPECT_EQ(upgraded.purge_expired(at(10'000), std::chrono::seconds{0}), 1U);
        EXPECT_FALSE(upgraded.find(expired.record.id));
        EXPECT_EQ(upgraded.find(valid.record.id), valid.record);
        EXPECT_EQ(upgraded.purge_expired(at(60'000), std::chrono::seconds{0}), 1U);
        EXPECT_EQ(upgraded.find(forever.record.id), forever.record);
    }
    StoreOptions first_release = testing::options_for(dir);
    first_release.schema_version = 1;
    EXPECT_EQ(error_of([&] { TokenStore old(first_release); }), StoreErrc::SchemaMismatch)
        << "the upgraded store says it is the current version, so the first release refuses it";
    EXPECT_EQ(raw_schema_version(dir), kSchemaVersion);
}

TEST(TokenStoreSchema, SchemaTwoStoreGetsEveryRecordInTheCurrentFormat) {
    TempDir dir;
    TestToken expiring = make_token("alice", "expiring");
    expiring.record.expires = at(1'000);
    expiring.record.use_count = 7;
    expiring.record.last_used = at(900);
    expiring.record.last_service = "sshd";
    expiring.record.last_rhost = "192.0.2.1";
    TestToken forever = make_token("bob", "forever");
    forever.record.services = {"sshd", "sudo"};
    make_old_store(dir, 2, {expiring.record, forever.record});
    ASSERT_EQ(read_raw_lmdb(dir, "tokens", expiring.record.id.key()).value_or("?")[0], 1)
        << "the old store holds format 1 records";
    ASSERT_EQ(raw_schema_version(dir), 2U);
    {
        TokenStore upgraded(testing::options_for(dir));
        EXPECT_EQ(upgraded.find(expiring.record.id), expiring.record)
            << "every field kept, the new ones at their defaults";
        EXPECT_EQ(upgraded.find(forever.record.id), forever.record);
        EXPECT_TRUE(authenticates(upgraded, "alice", expiring.text));
        EXPECT_EQ(upgraded.find(forever.record.id)->origin, kOriginApitoken);
    }
    for (const auto* t : {&expiring, &forever}) {
        const auto bytes = read_raw_lmdb(dir, "tokens", t->record.id.key());
        ASSERT_TRUE(bytes);
        EXPECT_EQ(static_cast<std::uint8_t>((*bytes)[0]), kRecordFormat) << "rewritten on open";
    }
    EXPECT_EQ(raw_schema_version(dir), kSchemaVersion);

    TokenStore upgraded(testing::options_for(dir));
    EXPECT_EQ(upgraded.purge_expired(at(2'000), std::chrono::seconds{0}), 1U)
        << "the expiry index came through";
    TokenRecord successor = make_token("bob", "forever").record;
    successor.rotated_from = forever.record.id;
    upgraded.rotate("bob", forever.record.id, successor, at(5'000));
    EXPECT_EQ(upgraded.purge_rotated(at(5'000)), 1U) << "the grace index works";
    EXPECT_EQ(upgraded.count(), 1U);
}

TEST(TokenStoreSchema, StoreMigratedToTheCurrentSchemaIsRefusedByTheOlderBuild) {
    TempDir dir;
    const TestToken t = make_token("alice", "a");
    make_old_store(dir, 2, {t.record});
    { TokenStore upgraded(testing::options_for(dir)); }
    StoreOptions older = testing::options_for(dir);
    older.schema_version = kSchemaVersion - 1;
    try {
        TokenStore old(older);
        FAIL() << "the older build opened a migrated store";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::SchemaMismatch) << error.what();
        EXPECT_NE(std::string(error.what()).find("newer"), std::string::npos) << error.what();
    }
}

TEST(TokenStoreSchema, MigrationLeavesARecordItCannotReadAsItIs) {
    TempDir dir;
    const TestToken good = make_token("alice", "good");
    const TestToken broken = make_token("alice", "broken");
    make_old_store(dir, 2, {good.record, broken.record});
    change_raw_lmdb(dir, [&](MDB_txn* txn) {
        MDB_dbi tokens = 0;
        MDB_val key{TokenId::kBytes, const_cast<char*>(broken.record.id.key().data())};
        std::string junk = "\x01junk";
        MDB_val value{junk.size(), junk.data()};
        const int rc = mdb_dbi_open(txn, "tokens", 0, &tokens);
        return rc != 0 ? rc : mdb_put(txn, tokens, &key, &value, 0);
    });
    {
        TokenStore upgraded(testing::options_for(dir));
        EXPECT_EQ(upgraded.find(good.record.id), good.record);
        EXPECT_EQ(error_of([&] { static_cast<void>(upgraded.find(broken.record.id)); }),
                  StoreErrc::Corrupt);
    }
    EXPECT_EQ(read_raw_lmdb(dir, "tokens", broken.record.id.key()), "\x01junk");
    EXPECT_EQ(raw_schema_version(dir), kSchemaVersion);
}

// Rewrites data.mdb without free pages, so that a map of the file's size has
// no room for any new page.
void compact_store(const TempDir& dir) {
    const auto copy = dir / "compact";
    std::filesystem::create_directory(copy);
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
    ASSERT_EQ(mdb_env_open(env, (dir / "state").c_str(), 0, 0600), 0);
    ASSERT_EQ(mdb_env_copy2(env, copy.c_str(), MDB_CP_COMPACT), 0);
    mdb_env_close(env);
    std::filesystem::rename(copy / "data.mdb", dir / "state" / "data.mdb");
}

TEST(TokenStoreSchema, MigrationThatDoesNotFitChangesNothingAndOneThatMayGrowSucceeds) {
    TempDir dir;
    const TokenRecord proto = make_token("proto", "proto").record;
    std::vector<TokenRecord> records;
    for (int i = 0; i < 2'000; ++i) {
        TokenRecord record = proto;
        record.id = TokenId::random();
        record.user = "user" + std::to_string(i % 50);
        record.name = "t" + std::to_string(i);
        records.push_back(record);
    }
    make_old_store(dir, 2, records, std::size_t{16} << 20U);
    compact_store(dir);
    const auto used = std::filesystem::file_size(dir / "state" / "data.mdb");

    StoreOptions cramped = testing::options_for(dir);
    cramped.initial_map_size = std::size_t{64} << 10U;    // LMDB raises it to the file's size
    cramped.max_map_size = used + std::size_t{16} * 4096; // room for a few pages only
    EXPECT_EQ(error_of([&] { TokenStore store(cramped); }), StoreErrc::Full);
    EXPECT_EQ(raw_schema_version(dir), 2U) << "a failed migration leaves the old store";
    for (const auto& record : {records.front(), records.back()}) {
        EXPECT_EQ(read_raw_lmdb(dir, "tokens", record.id.key()),
                  testing::format1_record_bytes(record));
    }

    StoreOptions roomy = cramped;
    roomy.max_map_size = std::size_t{64} << 20U;
    roomy.max_tokens_per_user = 100;
    TokenStore store(roomy);
    EXPECT_GT(store.map_size(), used) << "the map grew for the migration";
    EXPECT_EQ(store.count(), records.size());
    EXPECT_EQ(store.list_all().size(), records.size());
    EXPECT_EQ(store.find(records[1'234].id), records[1'234]);
}

TEST(TokenStoreSchema, StoreOfANewerSchemaIsRefusedUnchanged) {
    TempDir dir;
    StoreOptions newer = testing::options_for(dir);
    newer.schema_version = kSchemaVersion + 1;
    const TestToken t = make_token("alice", "a");
    {
        TokenStore written_by_newer_build(newer);
        written_by_newer_build.create(t.record);
    }
    try {
        TokenStore ours(testing::options_for(dir));
        FAIL() << "opened a store of a newer schema";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::SchemaMismatch);
        const std::string message = error.what();
        EXPECT_NE(message.find("newer"), std::string::npos) << message;
        EXPECT_NE(message.find(std::to_string(kSchemaVersion + 1)), std::string::npos) << message;
        EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
    }
    TokenStore again(newer);
    EXPECT_EQ(again.find(t.record.id), t.record) << "the refusal must not change the store";
}

// A newer build may add tables, as schema 2 added by_expiry: the store is
// still named as a newer apitoken's, not as some other program's file.
TEST(TokenStoreSchema, StoreOfANewerSchemaWithATableWeDoNotKnowIsNamedAsNewer) {
    TempDir dir;
    StoreOptions newer = testing::options_for(dir);
    newer.schema_version = kSchemaVersion + 1;
    { TokenStore written_by_newer_build(newer); }
    change_raw_lmdb(dir, [](MDB_txn* txn) {
        MDB_dbi added = 0;
        return mdb_dbi_open(txn, "by_service", MDB_CREATE, &added);
    });
    try {
        TokenStore ours(testing::options_for(dir));
        FAIL() << "opened a store of a newer schema";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::SchemaMismatch) << error.what();
        EXPECT_NE(std::string(error.what()).find("newer"), std::string::npos) << error.what();
    }
}

TEST(TokenStoreSchema, StoreOfThisBuildIsRefusedByABuildExpectingANewerSchema) {
    TempDir dir;
    const TestToken t = make_token("alice", "a");
    {
        TokenStore ours(testing::options_for(dir));
        ours.create(t.record);
    }
    StoreOptions newer = testing::options_for(dir);
    newer.schema_version = kSchemaVersion + 1;
    try {
        TokenStore newer_build(newer);
        FAIL() << "a build expecting a newer schema opened this build's store";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::SchemaMismatch);
        EXPECT_NE(
            std::string(error.what()).find("schema version " + std::to_string(kSchemaVersion)),
            std::string::npos)
            << error.what();
    }
    TokenStore ours(testing::options_for(dir));
    EXPECT_EQ(ours.find(t.record.id), t.record);
}

// The one rule for summing a token's uses (the store's queue and the fleet
// follower's): counts add up, the latest use names time, host, service and
// rhost, and on a tie the batch added later wins.
TEST(FleetUsageSum, CountsAddUpAndTheLatestUseWins) {
    const auto use = [](std::uint64_t count, int second, const char* host) {
        return FleetUsage{.id = {},
                          .use_count = count,
                          .last_used = TimePoint{std::chrono::seconds{second}},
                          .host = host,
                          .service = std::string("svc-") + host,
                          .rhost = std::string("rhost-") + host};
    };
    const auto expect_sum = [](const FleetUsage& sum, std::uint64_t count, int second,
                               const std::string& host) {
        EXPECT_EQ(sum.use_count, count);
        EXPECT_EQ(sum.last_used, TimePoint{std::chrono::seconds{second}});
        EXPECT_EQ(sum.host, host);
        EXPECT_EQ(sum.service, "svc-" + host);
        EXPECT_EQ(sum.rhost, "rhost-" + host);
    };
    FleetUsage sum = use(2, 20, "a");
    sum.add(use(3, 10, "older"));
    expect_sum(sum, 5, 20, "a");
    sum.add(use(1, 30, "newer"));
    expect_sum(sum, 6, 30, "newer");
    sum.add(use(0, 30, "tie"));
    expect_sum(sum, 6, 30, "tie");
}

// Fleet mode's queue of this host's uses for the database: what was sent
// leaves it, uses queued while it was on its way stay, a gone token's go.
TEST_F(TokenStoreTest, QueuedFleetUsageKeepsWhatWasNotDeliveredAcrossAReopen) {
    const TestToken kept = make_token("alice", "kept");
    const TestToken doomed = make_token("alice", "doomed");
    store->create(kept.record);
    store->create(doomed.record);
    const auto use = [](const TestToken& t, std::uint64_t count, int second, const char* rhost) {
        return FleetUsage{.id = t.record.id,
                          .use_count = count,
                          .last_used = TimePoint{std::chrono::seconds{second}},
                          .service = "sshd",
                          .rhost = rhost};
    };
    store->queue_fleet_usage(std::vector{use(kept, 2, 10, "10.0.0.1"), use(doomed, 1, 10, "")});
    const auto sent = store->queued_fleet_usage();
    ASSERT_EQ(sent.size(), 2U);
    store->queue_fleet_usage(std::vector{use(kept, 3, 20, "10.0.0.2")}); // while on its way
    store->forget_queued_fleet_usage(sent);
    reopen();
    const auto left = store->queued_fleet_usage();
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0].id, kept.record.id);
    EXPECT_EQ(left[0].use_count, 3U);
    EXPECT_EQ(left[0].rhost, "10.0.0.2");
    EXPECT_EQ(left[0].last_used, TimePoint{std::chrono::seconds{20}});

    store->queue_fleet_usage(std::vector{use(doomed, 4, 30, "")});
    store->revoke("alice", doomed.record.id);
    store->queue_fleet_usage(std::vector{use(doomed, 1, 40, "")});
    ASSERT_EQ(store->queued_fleet_usage().size(), 1U);
    EXPECT_EQ(store->queued_fleet_usage()[0].id, kept.record.id);
}

} // namespace
} // namespace apitoken::store
