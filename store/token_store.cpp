#include "store/token_store.hpp"

#include "store/lmdb_handle.hpp"
#include "store/name_rules.hpp"
#include "store/record_codec.hpp"
#include "store/state_directory.hpp"
#include "store/store_error.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <utility>

namespace apitoken::store {
namespace {

using lmdb::Cursor;
using lmdb::Txn;

constexpr std::string_view kMagicKey = "magic";
constexpr std::string_view kMagic = "apitoken-store";
constexpr std::string_view kSchemaKey = "schema_version";
constexpr const char* kMetaDb = "meta";
constexpr const char* kTokensDb = "tokens";
constexpr const char* kByUserDb = "by_user";
constexpr const char* kByExpiryDb = "by_expiry";
constexpr std::uint32_t kFirstSchemaWithExpiryIndex = 2;
constexpr mode_t kFileMode = 0600;

std::string encode_u32(std::uint32_t value) {
    std::string out(4, '\0');
    for (std::size_t i = 0; i < 4; ++i) {
        out[i] = static_cast<char>((value >> (8 * i)) & 0xFFU);
    }
    return out;
}

std::optional<std::uint32_t> decode_u32(std::string_view bytes) {
    if (bytes.size() != 4) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        value |= std::uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    return value;
}

void require(const std::string& problem) {
    if (!problem.empty()) {
        throw StoreError(StoreErrc::InvalidArgument, problem);
    }
}

void validate_record(const TokenRecord& record) {
    require(user_name_problem(record.user));
    require(token_name_problem(record.name));
    if (record.services.size() > kMaxServicesPerToken) {
        throw StoreError(StoreErrc::InvalidArgument, "a token may name at most 32 services");
    }
    for (const auto& service : record.services) {
        require(service_name_problem(service));
    }
    if (!record.hash.starts_with("$argon2id$")) {
        throw StoreError(StoreErrc::InvalidArgument, "a token's hash must be an Argon2id string");
    }
}

// by_expiry's key: the expiry in big-endian Unix seconds (so LMDB's byte
// order is time order), then the id. The value is empty.
constexpr std::size_t kExpiryKeyBytes = 8 + TokenId::kBytes;

std::string expiry_key(TimePoint expires, const TokenId& id) {
    const auto seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count()));
    std::string key(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) {
        key[i] = static_cast<char>((seconds >> (8 * (7 - i))) & 0xFFU);
    }
    return key + std::string(id.key());
}

// nullopt for a key of the wrong size.
std::optional<std::pair<TimePoint, TokenId>> parse_expiry_key(std::string_view key) {
    if (key.size() != kExpiryKeyBytes) {
        return std::nullopt;
    }
    std::uint64_t seconds = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        seconds = (seconds << 8U) | static_cast<unsigned char>(key[i]);
    }
    TokenId::Bytes bytes{};
    std::memcpy(bytes.data(), key.data() + 8, bytes.size());
    return std::pair{TimePoint{std::chrono::seconds{static_cast<std::int64_t>(seconds)}},
                     TokenId(bytes)};
}

StoreError not_found(std::string_view user, const TokenId& id) {
    return {StoreErrc::NotFound, "user " + std::string(user) + " has no token with id " + id.hex()};
}

} // namespace

struct TokenStore::Impl {
    StoreOptions options;
    StateDirectory dir;
    lmdb::Env env;
    MDB_dbi meta = 0;
    MDB_dbi tokens = 0;
    MDB_dbi by_user = 0;
    MDB_dbi by_expiry = 0;

    explicit Impl(StoreOptions opts) : options(std::move(opts)), dir(options.state_dir) {
        open_environment();
        open_databases();
    }

    void open_environment() {
        MDB_env* raw = nullptr;
        lmdb::check(mdb_env_create(&raw), "cannot create an LMDB environment");
        env.reset(raw);
        lmdb::check(mdb_env_set_maxdbs(raw, 4), "cannot configure the token store");
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
    // file) and leaves it ready, or refuses and writes nothing.
    void open_databases() {
        Txn txn(env.get(), Txn::Mode::Write);
        refuse_foreign_content(txn);
        lmdb::check(mdb_dbi_open(txn.get(), kMetaDb, MDB_CREATE, &meta), "cannot open meta table");
        lmdb::check(mdb_dbi_open(txn.get(), kTokensDb, MDB_CREATE, &tokens),
                    "cannot open tokens table");
        lmdb::check(
            mdb_dbi_open(txn.get(), kByUserDb, MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &by_user),
            "cannot open user index");
        lmdb::check(mdb_dbi_open(txn.get(), kByExpiryDb, MDB_CREATE, &by_expiry),
                    "cannot open expiry index");
        check_or_write_schema(txn);
        txn.commit();
    }

    // Our main database holds only our named tables. A table we do not know
    // is either a newer apitoken's (say so: the admin downgraded) or
    // another program's.
    void refuse_foreign_content(Txn& txn) const {
        if (!has_unknown_table(txn)) {
            return;
        }
        if (const auto version = apitoken_schema_of(txn);
            version && *version > options.schema_version) {
            throw schema_mismatch(*version);
        }
        throw StoreError(StoreErrc::Corrupt, dir.path().string() +
                                                 "/data.mdb is an LMDB file of some other "
                                                 "program, not an apitoken store; move it aside");
    }

    [[nodiscard]] static bool has_unknown_table(Txn& txn) {
        MDB_dbi main = 0;
        lmdb::check(mdb_dbi_open(txn.get(), nullptr, 0, &main), "cannot open the token store");
        Cursor cursor(txn, main);
        MDB_val key{};
        MDB_val value{};
        for (bool more = cursor.move(MDB_FIRST, key, value); more;
             more = cursor.move(MDB_NEXT, key, value)) {
            const auto name = lmdb::as_view(key);
            if (name != kMetaDb && name != kTokensDb && name != kByUserDb && name != kByExpiryDb) {
                return true;
            }
        }
        return false;
    }

    // The schema version an apitoken store says it has; nullopt when the
    // file has no header of ours.
    [[nodiscard]] static std::optional<std::uint32_t> apitoken_schema_of(Txn& txn) {
        MDB_dbi existing = 0;
        if (mdb_dbi_open(txn.get(), kMetaDb, 0, &existing) != MDB_SUCCESS) {
            return std::nullopt;
        }
        const auto magic = txn.find(existing, kMagicKey);
        const auto schema = txn.find(existing, kSchemaKey);
        if (!magic || *magic != kMagic || !schema) {
            return std::nullopt;
        }
        return decode_u32(*schema);
    }

    void check_or_write_schema(Txn& txn) const {
        const auto magic = txn.find(meta, kMagicKey);
        if (!magic) {
            txn.put(meta, kMagicKey, kMagic);
            txn.put(meta, kSchemaKey, encode_u32(options.schema_version));
            return;
        }
        const auto schema = txn.find(meta, kSchemaKey);
        const auto version = schema ? decode_u32(*schema) : std::nullopt;
        if (*magic != kMagic || !version) {
            throw StoreError(StoreErrc::Corrupt, dir.path().string() +
                                                     "/data.mdb has a damaged header; it is "
                                                     "not a readable apitoken store");
        }
        if (*version == options.schema_version) {
            return;
        }
        if (*version + 1 == kFirstSchemaWithExpiryIndex &&
            options.schema_version == kFirstSchemaWithExpiryIndex) {
            return build_expiry_index(txn);
        }
        throw schema_mismatch(*version);
    }

    // The migration from schema 1, in the transaction that opens the store:
    // it happens entirely or not at all.
    void build_expiry_index(Txn& txn) const {
        try {
            Cursor cursor(txn, tokens);
            MDB_val key{};
            MDB_val value{};
            for (bool more = cursor.move(MDB_FIRST, key, value); more;
                 more = cursor.move(MDB_NEXT, key, value)) {
                if (key.mv_size != TokenId::kBytes) {
                    continue;
                }
                TokenId::Bytes bytes{};
                std::memcpy(bytes.data(), key.mv_data, bytes.size());
                const auto record = decode_record(TokenId(bytes), lmdb::as_view(value));
                if (record && record->expires) {
                    txn.put(by_expiry, expiry_key(*record->expires, record->id), {});
                }
            }
            txn.put(meta, kSchemaKey, encode_u32(options.schema_version));
        } catch (const lmdb::MapFull&) {
            throw StoreError(StoreErrc::Full, "the token store in " + dir.path().string() +
                                                  " is too full to upgrade it to schema version " +
                                                  std::to_string(options.schema_version) +
                                                  "; raise max_store_size");
        }
    }

    [[nodiscard]] StoreError schema_mismatch(std::uint32_t found) const {
        const std::string head = "the token store in " + dir.path().string() +
                                 " has schema version " + std::to_string(found) +
                                 ", but this build of apitoken ";
        const std::string ours = std::to_string(options.schema_version);
        if (found > options.schema_version) {
            return {StoreErrc::SchemaMismatch,
                    head + "only understands version " + ours +
                        "; it was written by a newer apitoken: upgrade apitoken (the store "
                        "was not changed)"};
        }
        return {StoreErrc::SchemaMismatch,
                head + "expects version " + ours +
                    " and knows no migration from it; the store was not changed"};
    }

    // Runs `fn` in a write transaction and commits it. When the map is full,
    // the transaction is dropped, the map doubled (up to the maximum) and
    // `fn` run again, so a full map never leaves a half-done write.
    template <typename Fn>
    auto write(Fn&& fn) {
        if (!in_place()) {
            throw StoreError(StoreErrc::StateDirUnusable,
                             dir.path().string() +
                                 "/data.mdb was removed or replaced while the store was open; "
                                 "nothing was written (restart apitokend)");
        }
        for (;;) {
            try {
                Txn txn(env.get(), Txn::Mode::Write);
                if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Txn&>>) {
                    fn(txn);
                    txn.commit();
                    return;
                } else {
                    auto result = fn(txn);
                    txn.commit();
                    return result;
                }
            } catch (const lmdb::MapFull&) {
                grow_map();
            } catch (const StoreError& error) {
                throw_with_disk_diagnosis(error);
            }
        }
    }

    // LMDB reports a short write (what a full file system gives) as a plain
    // EIO. Ask the file system, so that the admin reads "full" and not a
    // hardware-sounding I/O error. A short write leaves the last few blocks
    // unused, so "nearly full" is full for this purpose.
    static constexpr std::uint64_t kNearlyFull = 1U << 20U;

    [[noreturn]] void throw_with_disk_diagnosis(const StoreError& error) const {
        struct statvfs fs {};
        if (error.code() == StoreErrc::Io && ::statvfs(dir.path().c_str(), &fs) == 0 &&
            fs.f_bavail * fs.f_frsize < kNearlyFull) {
            throw StoreError(StoreErrc::Full, std::string(error.what()) +
                                                  " (No space left on device: the file system of " +
                                                  dir.path().string() + " is full)");
        }
        throw error;
    }

    void grow_map() const {
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
    [[nodiscard]] bool in_place() const {
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

    [[nodiscard]] std::size_t map_size() const {
        MDB_envinfo info{};
        lmdb::check(mdb_env_info(env.get(), &info), "cannot read the token store's size");
        return info.me_mapsize;
    }

    [[nodiscard]] std::optional<TokenRecord> read(const Txn& txn, const TokenId& id) const {
        const auto bytes = txn.find(tokens, id.key());
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

    // The ids in the user index, in key order.
    [[nodiscard]] std::vector<TokenId> ids_of(const Txn& txn, std::string_view user) const {
        std::vector<TokenId> ids;
        Cursor cursor(txn, by_user);
        MDB_val key = lmdb::as_val(user);
        MDB_val value{};
        for (bool more = cursor.move(MDB_SET_KEY, key, value); more;
             more = cursor.move(MDB_NEXT_DUP, key, value)) {
            if (value.mv_size != TokenId::kBytes) {
                throw StoreError(StoreErrc::Corrupt, "the token store's user index is corrupt");
            }
            TokenId::Bytes bytes{};
            std::memcpy(bytes.data(), value.mv_data, bytes.size());
            ids.emplace_back(bytes);
        }
        return ids;
    }

    [[nodiscard]] std::size_t count_of(const Txn& txn, std::string_view user) const {
        Cursor cursor(txn, by_user);
        MDB_val key = lmdb::as_val(user);
        MDB_val value{};
        return cursor.move(MDB_SET_KEY, key, value) ? cursor.duplicates() : 0;
    }

    void require_unique_name(const Txn& txn, std::string_view user, std::string_view name,
                             const TokenId& except) const {
        for (const auto& id : ids_of(txn, user)) {
            const auto other = read(txn, id);
            if (other && id != except && other->name == name) {
                throw StoreError(StoreErrc::DuplicateName, "user " + std::string(user) +
                                                               " already has a token named \"" +
                                                               std::string(name) + "\"");
            }
        }
    }

    void insert(Txn& txn, const TokenRecord& record) const {
        validate_record(record);
        if (count_of(txn, record.user) >= options.max_tokens_per_user) {
            throw StoreError(StoreErrc::TooManyTokens,
                             "user " + record.user + " already has the maximum of " +
                                 std::to_string(options.max_tokens_per_user) + " tokens");
        }
        require_unique_name(txn, record.user, record.name, record.id);
        if (!txn.put(tokens, record.id.key(), encode_record(record), MDB_NOOVERWRITE)) {
            throw StoreError(StoreErrc::DuplicateId,
                             "a token with id " + record.id.hex() + " exists already");
        }
        txn.put(by_user, record.user, record.id.key(), MDB_NODUPDATA);
        if (record.expires) {
            txn.put(by_expiry, expiry_key(*record.expires, record.id), {});
        }
    }

    // The token, provided it belongs to `user`.
    [[nodiscard]] TokenRecord owned(const Txn& txn, std::string_view user,
                                    const TokenId& id) const {
        auto record = read(txn, id);
        if (!record || record->user != user) {
            throw not_found(user, id);
        }
        return std::move(*record);
    }

    void remove(Txn& txn, const TokenRecord& record) const {
        txn.erase(tokens, record.id.key());
        txn.erase(by_user, record.user, record.id.key());
        if (record.expires) {
            txn.erase(by_expiry, expiry_key(*record.expires, record.id));
        }
    }
};

TokenStore::TokenStore(StoreOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TokenStore::TokenStore(TokenStore&&) noexcept = default;
TokenStore& TokenStore::operator=(TokenStore&&) noexcept = default;
TokenStore::~TokenStore() = default;

void TokenStore::create(const TokenRecord& record) {
    create_batch({&record, 1});
}

void TokenStore::create_batch(std::span<const TokenRecord> records) {
    impl_->write([&](Txn& txn) {
        for (const auto& record : records) {
            impl_->insert(txn, record);
        }
    });
}

std::optional<TokenRecord> TokenStore::find(const TokenId& id) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return impl_->read(txn, id);
}

std::vector<TokenRecord> TokenStore::list(std::string_view user) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    std::vector<TokenRecord> records;
    for (const auto& id : impl_->ids_of(txn, user)) {
        if (auto record = impl_->read(txn, id)) {
            records.push_back(std::move(*record));
        }
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return std::tie(a.created, a.id) < std::tie(b.created, b.id);
    });
    return records;
}

std::size_t TokenStore::count() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    MDB_stat stat{};
    lmdb::check(mdb_stat(txn.get(), impl_->tokens, &stat), "cannot count tokens");
    return stat.ms_entries;
}

std::size_t TokenStore::count(std::string_view user) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return impl_->count_of(txn, user);
}

void TokenStore::revoke(std::string_view user, const TokenId& id) {
    impl_->write([&](Txn& txn) { impl_->remove(txn, impl_->owned(txn, user, id)); });
}

std::size_t TokenStore::revoke_all(std::string_view user) {
    return impl_->write([&](Txn& txn) {
        const auto ids = impl_->ids_of(txn, user);
        for (const auto& id : ids) {
            if (const auto record = impl_->read(txn, id)) {
                impl_->remove(txn, *record);
            }
        }
        txn.erase(impl_->by_user, user);
        return ids.size();
    });
}

void TokenStore::rename(std::string_view user, const TokenId& id, std::string_view new_name) {
    require(token_name_problem(new_name));
    impl_->write([&](Txn& txn) {
        auto record = impl_->owned(txn, user, id);
        impl_->require_unique_name(txn, user, new_name, id);
        record.name = new_name;
        txn.put(impl_->tokens, id.key(), encode_record(record));
    });
}

bool TokenStore::replace_hash(const TokenId& id, const std::string& old_hash,
                              const std::string& new_hash) {
    return impl_->write([&](Txn& txn) {
        auto record = impl_->read(txn, id);
        if (!record || record->hash != old_hash) {
            return false;
        }
        record->hash = new_hash;
        txn.put(impl_->tokens, id.key(), encode_record(*record));
        return true;
    });
}

std::size_t TokenStore::record_usage(std::span<const UsageEvent> events) {
    return impl_->write([&](Txn& txn) {
        std::size_t applied = 0;
        for (const auto& event : events) {
            auto record = impl_->read(txn, event.id);
            if (!record) {
                continue;
            }
            record->use_count += 1;
            if (!record->last_used || *record->last_used <= event.when) {
                record->last_used = event.when;
                record->last_service = event.service;
                record->last_rhost = event.rhost;
            }
            txn.put(impl_->tokens, event.id.key(), encode_record(*record));
            ++applied;
        }
        return applied;
    });
}

// Reads the expiry index up to the cut-off only: a purge of a store of a
// million tokens touches the pages of what it deletes, not the whole file.
std::size_t TokenStore::purge_expired(TimePoint now, std::chrono::seconds grace) {
    return impl_->write([&](Txn& txn) {
        std::vector<TokenRecord> doomed;
        std::vector<std::string> stale; // index entries without their token
        Cursor cursor(txn, impl_->by_expiry);
        MDB_val key{};
        MDB_val value{};
        for (bool more = cursor.move(MDB_FIRST, key, value); more;
             more = cursor.move(MDB_NEXT, key, value)) {
            const auto entry = parse_expiry_key(lmdb::as_view(key));
            if (!entry) {
                throw StoreError(StoreErrc::Corrupt, "the token store's expiry index is corrupt");
            }
            if (entry->first + grace > now) {
                break;
            }
            const auto bytes = txn.find(impl_->tokens, entry->second.key());
            auto record = bytes ? decode_record(entry->second, *bytes) : std::nullopt;
            if (bytes && !record) {
                continue; // a record we cannot read is left for a human to look at
            }
            if (record && record->expires == entry->first) {
                doomed.push_back(std::move(*record));
            } else {
                stale.emplace_back(lmdb::as_view(key));
            }
        }
        for (const auto& record : doomed) {
            impl_->remove(txn, record);
        }
        for (const auto& entry : stale) {
            txn.erase(impl_->by_expiry, entry);
        }
        return doomed.size();
    });
}

bool TokenStore::still_in_place() const {
    return impl_->in_place();
}

std::size_t TokenStore::map_size() const {
    return impl_->map_size();
}

const std::filesystem::path& TokenStore::state_dir() const noexcept {
    return impl_->dir.path();
}

} // namespace apitoken::store
