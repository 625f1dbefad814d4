// The state directory and the files in it: creation, permissions, exclusive
// use, and refusal of anything that is not our store.
#include "store/store_error.hpp"
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace apitoken::store {
namespace {

using testing::TempDir;

mode_t mode_of(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

StoreError open_error(const StoreOptions& options) {
    try {
        TokenStore store(options);
    } catch (const StoreError& error) {
        return error;
    }
    ADD_FAILURE() << "the store opened";
    return {StoreErrc::Io, "none"};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

TEST(StateDirectory, MissingDirectoryIsCreated0700WithFiles0600) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    ::umask(022);
    TokenStore store(options);
    EXPECT_EQ(mode_of(options.state_dir), 0700U);
    for (const char* file : {"data.mdb", "lock.mdb", "apitoken.lock"}) {
        EXPECT_EQ(mode_of(options.state_dir / file), 0600U) << file;
    }
}

TEST(StateDirectory, TooOpenDirectoryIsTightenedTo0700) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    std::filesystem::create_directory(options.state_dir);
    ::chmod(options.state_dir.c_str(), 0755);
    TokenStore store(options);
    EXPECT_EQ(mode_of(options.state_dir), 0700U);
}

TEST(StateDirectory, MissingParentIsAClearError) {
    TempDir dir;
    StoreOptions options;
    options.state_dir = dir / "no" / "such" / "parent";
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::StateDirUnusable);
    EXPECT_NE(std::string(error.what()).find(options.state_dir.string()), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("No such file"), std::string::npos) << error.what();
}

TEST(StateDirectory, AFileInPlaceOfTheDirectoryIsRefused) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    write_file(options.state_dir, "not a directory");
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::StateDirUnusable);
    EXPECT_NE(std::string(error.what()).find("not a directory"), std::string::npos) << error.what();
}

TEST(StateDirectory, DirectoryOwnedBySomeoneElseIsRefused) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to give the directory to another uid";
    }
    TempDir dir;
    const auto options = testing::options_for(dir);
    std::filesystem::create_directory(options.state_dir);
    ASSERT_EQ(::chown(options.state_dir.c_str(), 65534, 65534), 0);
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::StateDirUnusable);
    EXPECT_NE(std::string(error.what()).find("owned by uid 65534"), std::string::npos)
        << error.what();
    EXPECT_FALSE(std::filesystem::exists(options.state_dir / "data.mdb"));
}

TEST(StateDirectory, UnwritableDirectoryIsRefused) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root may write anywhere; covered by the ownership test";
    }
    TempDir dir;
    const auto options = testing::options_for(dir);
    std::filesystem::create_directory(options.state_dir);
    ::chmod(options.state_dir.c_str(), 0500);
    // Our own directory at 0500 is tightened to 0700 first, so make the parent
    // path the problem instead: a directory we cannot create in.
    ::chmod(dir.path().c_str(), 0500);
    StoreOptions inside = options;
    inside.state_dir = dir / "new";
    EXPECT_EQ(open_error(inside).code(), StoreErrc::StateDirUnusable);
    ::chmod(dir.path().c_str(), 0700);
}

TEST(StateDirectory, SecondOpenIsRefusedNamingTheHolder) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    TokenStore first(options);
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::InUse);
    EXPECT_NE(std::string(error.what()).find("pid " + std::to_string(::getpid())),
              std::string::npos)
        << error.what();
}

TEST(StateDirectory, LockIsReleasedWhenTheStoreCloses) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    { TokenStore first(options); }
    EXPECT_NO_THROW(TokenStore second(options));
}

TEST(StoreFiles, JunkInPlaceOfTheDataFileIsRefusedAndKept) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    std::filesystem::create_directory(options.state_dir);
    ::chmod(options.state_dir.c_str(), 0700);
    const std::string junk(std::size_t{64} * 1024, 'J');
    write_file(options.state_dir / "data.mdb", junk);
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::Corrupt);
    EXPECT_NE(std::string(error.what()).find("data.mdb"), std::string::npos) << error.what();
    std::ifstream in(options.state_dir / "data.mdb", std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), junk)
        << "the file must be left as it was";
}

// An LMDB environment written by some other program.
void write_foreign_lmdb(const std::filesystem::path& path) {
    std::filesystem::create_directory(path);
    ::chmod(path.c_str(), 0700);
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 2);
    ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0600), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "sessions", MDB_CREATE, &dbi), 0);
    MDB_val key{3, const_cast<char*>("key")};
    MDB_val value{5, const_cast<char*>("value")};
    ASSERT_EQ(mdb_put(txn, dbi, &key, &value, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

TEST(StoreFiles, ForeignLmdbFileIsRefusedAndKept) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    write_foreign_lmdb(options.state_dir);
    const auto size_before = std::filesystem::file_size(options.state_dir / "data.mdb");
    const StoreError error = open_error(options);
    EXPECT_EQ(error.code(), StoreErrc::Corrupt);
    EXPECT_NE(std::string(error.what()).find("not an apitoken store"), std::string::npos)
        << error.what();
    EXPECT_EQ(std::filesystem::file_size(options.state_dir / "data.mdb"), size_before);
}

TEST(StoreFiles, CorruptRecordIsReportedNotMisread) {
    TempDir dir;
    const auto options = testing::options_for(dir);
    const auto t = testing::make_token("alice", "a");
    { TokenStore(options).create(t.record); }
    {
        // Overwrite the record's value behind the store's back.
        MDB_env* env = nullptr;
        ASSERT_EQ(mdb_env_create(&env), 0);
        mdb_env_set_maxdbs(env, 3);
        ASSERT_EQ(mdb_env_open(env, options.state_dir.c_str(), 0, 0600), 0);
        MDB_txn* txn = nullptr;
        ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
        MDB_dbi tokens = 0;
        ASSERT_EQ(mdb_dbi_open(txn, "tokens", 0, &tokens), 0);
        MDB_val key{TokenId::kBytes, const_cast<std::uint8_t*>(t.record.id.bytes().data())};
        MDB_val value{4, const_cast<char*>("junk")};
        ASSERT_EQ(mdb_put(txn, tokens, &key, &value, 0), 0);
        ASSERT_EQ(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
    }
    TokenStore store(options);
    try {
        static_cast<void>(store.find(t.record.id));
        FAIL() << "a corrupt record was read";
    } catch (const StoreError& error) {
        EXPECT_EQ(error.code(), StoreErrc::Corrupt);
        EXPECT_NE(std::string(error.what()).find(t.record.id.hex()), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(store.purge_expired(testing::at(4'000'000'000), std::chrono::seconds{0}), 0U);
}

} // namespace
} // namespace apitoken::store
