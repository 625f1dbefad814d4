#include "store/store_impl.hpp"

#include "store/gone_token.hpp"
#include "store/imported_hash.hpp"
#include "store/name_rules.hpp"
#include "store/record_codec.hpp"
#include "store/store_keys.hpp"
#include "store/token_hash.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

namespace apitoken::store {
namespace {

using lmdb::Cursor;
using lmdb::Txn;

constexpr mode_t kFileMode = 0600;
// meta, tokens, by_user, by_expiry, by_grace, revoked, revoked_by_user,
// imported. (Fleet mode's bookkeeping lives in meta: replica_ops.cpp.)
constexpr unsigned kMaxTables = 8;

StoreError not_found(std::string_view user, const TokenId& id) {
    return {StoreErrc::NotFound, "user " + std::string(user) + " has no token with id " + id.hex()};
}

void validate_policy_fields(const TokenRecord& record) {
    require(description_problem(record.description));
    require(sources_problem(record.sources));
    require(hosts_problem(record.hosts));
    if (record.recent_sources.size() > kMaxRecentSources) {
        throw StoreError(StoreErrc::InvalidArgument, "a token keeps at most " +
                                                         std::to_string(kMaxRecentSources) +
                                                         " recent sources");
    }
    if (record.origin != kOriginApitoken && record.origin != kOriginJenkins) {
        throw StoreError(StoreErrc::InvalidArgument, std::string("a token's origin must be \"") +
                                                         kOriginApitoken + "\" or \"" +
                                                         kOriginJenkins + "\"");
    }
    // purge_rotated() finds rotated tokens by their grace period: one
    // without would never go.
    if (record.rotated_to.has_value() != record.grace_until.has_value()) {
        throw StoreError(StoreErrc::InvalidArgument,
                         "a rotated token needs the end of its grace period, and only a rotated "
                         "token has one");
    }
}

} // namespace

void require(const std::string& problem) {
    if (!problem.empty()) {
        throw StoreError(StoreErrc::InvalidArgument, problem);
    }
}

void validate_record(const TokenRecord& record) {
    require(user_name_problem(record.user));
    require(token_name_problem(record.name));
    require(services_problem(record.services));
    // Only an imported token may wait for its first use with the hash its
    // origin kept.
    const bool imported_hash = record.origin == kOriginJenkins && is_jenkins_hash(record.hash);
    if (!record.hash.starts_with(kArgon2idPrefix) && !imported_hash) {
        throw StoreError(StoreErrc::InvalidArgument, "a token's hash must be an Argon2id string");
    }
    validate_policy_fields(record);
}

TokenStore::Impl::Impl(StoreOptions opts) : options(std::move(opts)), dir(options.state_dir) {
    open_environment();
    open_databases();
}

void TokenStore::Impl::open_environment() {
    MDB_env* raw = nullptr;
    lmdb::check(mdb_env_create(&raw), "cannot create an LMDB environment");
    env.reset(raw);
    lmdb::check(mdb_env_set_maxdbs(raw, kMaxTables), "cannot configure the token store");
    lmdb::check(mdb_env_set_mapsize(raw, options.initial_map_size),
                "cannot set the token store's map size");
    const std::string where = "cannot open the token store in " + dir.path().string();
    const int rc = mdb_env_open(raw, dir.path().c_str(), 0, kFileMode);
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
        throw StoreError(StoreErrc::Corrupt,
                         where + ": data.mdb is not an LMDB file this build can read "
                                 "(corrupt, or a foreign file); move it aside");
    }
    lmdb::check(rc, where);
    // Readers left behind by a killed process would pin old pages forever.
    int dead = 0;
    mdb_reader_check(raw, &dead);
}

// One write transaction that either finds a store of ours (or an empty
// file) and leaves it ready, or refuses and writes nothing. A migration
// rewrites every record, which may need a bigger map: grown as for any
// write, up to the maximum.
void TokenStore::Impl::open_databases() {
    for (;;) {
        try {
            Txn txn(env.get(), Txn::Mode::Write);
            tables = open_store_tables(txn, dir.path(), options.schema_version);
            txn.commit();
            return;
        } catch (const lmdb::MapFull&) {
            grow_map();
        }
    }
}

void TokenStore::Impl::refuse_if_moved() const {
    if (!in_place()) {
        throw StoreError(StoreErrc::StateDirUnusable,
                         dir.path().string() +
                             "/data.mdb was removed or replaced while the store was open; "
                             "nothing was written (restart apitokend)");
    }
}

// LMDB reports a short write (what a full file system gives) as a plain
// EIO. Ask the file system, so that the admin reads "full" and not a
// hardware-sounding I/O error. A short write leaves the last few blocks
// unused, so "nearly full" is full for this purpose.
void TokenStore::Impl::throw_with_disk_diagnosis(const StoreError& error) const {
    constexpr std::uint64_t kNearlyFull = 1U << 20U;
    struct statvfs fs {};
    if (error.code() == StoreErrc::Io && ::statvfs(dir.path().c_str(), &fs) == 0 &&
        fs.f_bavail * fs.f_frsize < kNearlyFull) {
        throw StoreError(StoreErrc::Full, std::string(error.what()) +
                                              " (No space left on device: the file system of " +
                                              dir.path().string() + " is full)");
    }
    throw error;
}

void TokenStore::Impl::grow_map() const {
    const std::size_t current = map_size();
    if (current >= options.max_map_size) {
        throw StoreError(StoreErrc::Full, "the token store in " + dir.path().string() +
                                              " is full: it reached its maximum size of " +
                                              std::to_string(options.max_map_size >> 20U) +
                                              " MiB; raise the maximum or purge old tokens");
    }
    const std::size_t next = std::min(current * 2, options.max_map_size);
    lmdb::check(mdb_env_set_mapsize(env.get(), next), "cannot grow the token store");
}

// A name we may not look up any more (the directory made unreadable) is
// still the file we have open as far as we can tell: the data is safe.
bool TokenStore::Impl::in_place() const {
    int fd = -1;
    struct stat open_file {};
    struct stat named_file {};
    if (mdb_env_get_fd(env.get(), &fd) != 0 || ::fstat(fd, &open_file) != 0) {
        return true;
    }
    if (::stat((dir.path() / "data.mdb").c_str(), &named_file) != 0) {
        return errno != ENOENT && errno != ENOTDIR;
    }
    return open_file.st_dev == named_file.st_dev && open_file.st_ino == named_file.st_ino;
}

std::size_t TokenStore::Impl::map_size() const {
    MDB_envinfo info{};
    lmdb::check(mdb_env_info(env.get(), &info), "cannot read the token store's size");
    return info.me_mapsize;
}

std::optional<TokenRecord> TokenStore::Impl::read(const Txn& txn, const TokenId& id) const {
    const auto bytes = txn.find(tables.tokens, id.key());
    if (!bytes) {
        return std::nullopt;
    }
    auto record = decode_record(id, *bytes);
    if (!record) {
        throw StoreError(StoreErrc::Corrupt,
                         "the record of token " + id.hex() + " in the token store is corrupt");
    }
    return record;
}

std::vector<TokenId> TokenStore::Impl::ids_of(const Txn& txn, std::string_view user) const {
    std::vector<TokenId> ids;
    Cursor cursor(txn, tables.by_user);
    MDB_val key = lmdb::as_val(user);
    MDB_val value{};
    for (bool more = cursor.move(MDB_SET_KEY, key, value); more;
         more = cursor.move(MDB_NEXT_DUP, key, value)) {
        const auto id = TokenId::from_bytes(lmdb::as_view(value));
        if (!id) {
            throw StoreError(StoreErrc::Corrupt, "the token store's user index is corrupt");
        }
        ids.push_back(*id);
    }
    return ids;
}

std::size_t TokenStore::Impl::count_of(const Txn& txn, std::string_view user) const {
    Cursor cursor(txn, tables.by_user);
    MDB_val key = lmdb::as_val(user);
    MDB_val value{};
    return cursor.move(MDB_SET_KEY, key, value) ? cursor.duplicates() : 0;
}

AccountTokens TokenStore::Impl::account_tokens(const Txn& txn, std::string_view user, uid_t uid,
                                               std::optional<TokenId> except) const {
    AccountTokens account;
    for (const auto& id : ids_of(txn, user)) {
        auto record = id == except ? std::nullopt : read(txn, id);
        if (!record || record->uid != uid) {
            continue;
        }
        if (record->rotated()) {
            ++account.rotated;
        } else {
            account.live.push_back(std::move(*record));
        }
    }
    return account;
}

TokenRecord TokenStore::Impl::owned(const Txn& txn, std::string_view user, const TokenId& id,
                                    std::optional<uid_t> uid) const {
    auto record = read(txn, id);
    if (!record || record->user != user || (uid && record->uid != *uid)) {
        throw not_found(user, id);
    }
    return std::move(*record);
}

// Reads the index up to the cut-off only: a purge of a store of a million
// tokens touches the pages of what it deletes, not the whole file.
DueEntries TokenStore::Impl::due(const Txn& txn, MDB_dbi index, TimePoint cutoff,
                                 std::optional<TimePoint> TokenRecord::*field) const {
    DueEntries found;
    Cursor cursor(txn, index);
    MDB_val key{};
    MDB_val value{};
    for (bool more = cursor.move(MDB_FIRST, key, value); more;
         more = cursor.move(MDB_NEXT, key, value)) {
        const auto entry = parse_expiry_key(lmdb::as_view(key));
        if (!entry) {
            throw StoreError(StoreErrc::Corrupt, "a time index of the token store is corrupt");
        }
        if (entry->expires > cutoff) {
            break;
        }
        const auto bytes = txn.find(tables.tokens, entry->id.key());
        auto record = bytes ? decode_record(entry->id, *bytes) : std::nullopt;
        if (bytes && !record) {
            continue; // a record we cannot read is left for a human to look at
        }
        if (record && (*record).*field == entry->expires) {
            found.records.push_back(std::move(*record));
        } else {
            found.stale.emplace_back(lmdb::as_view(key));
        }
    }
    return found;
}

void TokenStore::Impl::check_account_rules(const Txn& txn, const TokenRecord& record,
                                           bool arrives) const {
    const AccountTokens account = account_tokens(txn, record.user, record.uid, record.id);
    const std::size_t max = options.max_tokens_per_user;
    if (arrives && record.rotated() && account.rotated >= max) {
        throw StoreError(StoreErrc::TooManyTokens,
                         "user " + record.user + " already has the maximum of " +
                             std::to_string(max) + " tokens in their grace period after rotation");
    }
    if (record.rotated()) {
        return;
    }
    if (arrives && account.live.size() >= max) {
        throw StoreError(StoreErrc::TooManyTokens, "user " + record.user +
                                                       " already has the maximum of " +
                                                       std::to_string(max) + " tokens");
    }
    const bool taken = std::any_of(account.live.begin(), account.live.end(),
                                   [&](const auto& other) { return other.name == record.name; });
    if (taken) {
        throw StoreError(StoreErrc::DuplicateName, "user " + record.user +
                                                       " already has a token named \"" +
                                                       record.name + "\"");
    }
}

void TokenStore::Impl::note_change(const Txn& txn, const TokenId& id,
                                   const TokenRecord* record) const {
    if (journal != nullptr) {
        journal->push_back({id, record != nullptr ? std::optional(*record) : std::nullopt,
                            fleet_version(txn, id)});
    }
}

void TokenStore::Impl::insert(Txn& txn, const TokenRecord& record) const {
    validate_record(record);
    check_account_rules(txn, record, true);
    note_change(txn, record.id, &record);
    put_new(txn, record);
}

void TokenStore::Impl::put_new(Txn& txn, const TokenRecord& record) const {
    if (!txn.put(tables.tokens, record.id.key(), encode_record(record), MDB_NOOVERWRITE)) {
        throw StoreError(StoreErrc::DuplicateId,
                         "a token with id " + record.id.hex() + " exists already");
    }
    txn.put(tables.by_user, record.user, record.id.key(), MDB_NODUPDATA);
    if (record.expires) {
        txn.put(tables.by_expiry, expiry_key(*record.expires, record.id), {});
    }
    if (record.grace_until) {
        txn.put(tables.by_grace, expiry_key(*record.grace_until, record.id), {});
    }
}

void TokenStore::Impl::replace(Txn& txn, const TokenRecord& before,
                               const TokenRecord& after) const {
    note_change(txn, after.id, &after);
    txn.put(tables.tokens, after.id.key(), encode_record(after));
    const auto reindex = [&](MDB_dbi index, const std::optional<TimePoint>& was,
                             const std::optional<TimePoint>& now) {
        if (was == now) {
            return;
        }
        if (was) {
            txn.erase(index, expiry_key(*was, before.id));
        }
        if (now) {
            txn.put(index, expiry_key(*now, after.id), {});
        }
    };
    reindex(tables.by_expiry, before.expires, after.expires);
    reindex(tables.by_grace, before.grace_until, after.grace_until);
}

// The tombstone of a deleted token, and its place among its user's (the
// oldest go beyond the user's share, so that churn cannot grow the store).
void TokenStore::Impl::remember_gone(Txn& txn, const TokenRecord& record) const {
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    txn.put(tables.revoked, record.id.key(), encode_gone_token(gone_token_of(record, now)));
    txn.put(tables.revoked_by_user, record.user, expiry_key(now, record.id));
    Cursor cursor(txn, tables.revoked_by_user);
    MDB_val key = lmdb::as_val(record.user);
    MDB_val value{};
    if (!cursor.move(MDB_SET_KEY, key, value)) {
        return;
    }
    for (std::size_t kept = cursor.duplicates(); kept > gone_tokens_kept(options); --kept) {
        if (!cursor.move(MDB_FIRST_DUP, key, value)) {
            return;
        }
        if (const auto oldest = parse_expiry_key(lmdb::as_view(value))) {
            txn.erase(tables.revoked, oldest->id.key());
        }
        cursor.erase_current();
    }
}

void TokenStore::Impl::remove(Txn& txn, const TokenRecord& record) const {
    note_change(txn, record.id, nullptr);
    forget_fleet_usage(txn, record.id);
    remember_gone(txn, record);
    txn.erase(tables.tokens, record.id.key());
    txn.erase(tables.by_user, record.user, record.id.key());
    if (record.expires) {
        txn.erase(tables.by_expiry, expiry_key(*record.expires, record.id));
    }
    if (record.grace_until) {
        txn.erase(tables.by_grace, expiry_key(*record.grace_until, record.id));
    }
}

std::size_t TokenStore::Impl::purge(Txn& txn, MDB_dbi index, const DueEntries& due) const {
    for (const auto& record : due.records) {
        remove(txn, record);
    }
    for (const auto& entry : due.stale) {
        txn.erase(index, entry);
    }
    return due.records.size();
}

} // namespace apitoken::store
