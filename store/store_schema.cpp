#include "store/store_schema.hpp"

#include "store/record_codec.hpp"
#include "store/store_error.hpp"
#include "store/store_keys.hpp"
#include "store/token_store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
constexpr const char* kByGraceDb = "by_grace";
constexpr const char* kRevokedDb = "revoked";
constexpr const char* kRevokedByUserDb = "revoked_by_user";
constexpr const char* kImportedDb = "imported";
constexpr std::uint32_t kFirstSchemaWithExpiryIndex = 2;
constexpr std::uint32_t kFirstSchemaWithFormat2Records = 3;
constexpr std::uint32_t kOldestMigratedSchema = 1;

// Our main database holds only our named tables. A table we do not know
// is either a newer apitoken's or another program's.
[[nodiscard]] bool has_unknown_table(Txn& txn) {
    MDB_dbi main = 0;
    lmdb::check(mdb_dbi_open(txn.get(), nullptr, 0, &main), "cannot open the token store");
    Cursor cursor(txn, main);
    MDB_val key{};
    MDB_val value{};
    for (bool more = cursor.move(MDB_FIRST, key, value); more;
         more = cursor.move(MDB_NEXT, key, value)) {
        const auto name = lmdb::as_view(key);
        if (name != kMetaDb && name != kTokensDb && name != kByUserDb && name != kByExpiryDb &&
            name != kByGraceDb && name != kRevokedDb && name != kRevokedByUserDb &&
            name != kImportedDb) {
            return true;
        }
    }
    return false;
}

// The schema version an apitoken store says it has; nullopt when the file
// has no header of ours.
[[nodiscard]] std::optional<std::uint32_t> apitoken_schema_of(Txn& txn) {
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

// Opens one store's tables in one transaction; every refusal names the
// directory and the versions involved.
class SchemaOpener {
public:
    SchemaOpener(Txn& txn, const std::filesystem::path& dir, std::uint32_t schema_version)
        : txn_(txn), dir_(dir), version_(schema_version) {}

    StoreTables open() {
        refuse_foreign_content();
        open_tables();
        check_or_write_header();
        return tables_;
    }

private:
    // A newer apitoken's store says so (the admin downgraded); anything else
    // with tables of its own is another program's file.
    void refuse_foreign_content() const {
        if (!has_unknown_table(txn_)) {
            return;
        }
        if (const auto found = apitoken_schema_of(txn_); found && *found > version_) {
            throw schema_mismatch(*found);
        }
        throw StoreError(StoreErrc::Corrupt, dir_.string() +
                                                 "/data.mdb is an LMDB file of some other "
                                                 "program, not an apitoken store; move it aside");
    }

    void open_tables() {
        MDB_txn* raw = txn_.get();
        lmdb::check(mdb_dbi_open(raw, kMetaDb, MDB_CREATE, &tables_.meta),
                    "cannot open meta table");
        lmdb::check(mdb_dbi_open(raw, kTokensDb, MDB_CREATE, &tables_.tokens),
                    "cannot open tokens table");
        lmdb::check(
            mdb_dbi_open(raw, kByUserDb, MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &tables_.by_user),
            "cannot open user index");
        lmdb::check(mdb_dbi_open(raw, kByExpiryDb, MDB_CREATE, &tables_.by_expiry),
                    "cannot open expiry index");
        lmdb::check(mdb_dbi_open(raw, kByGraceDb, MDB_CREATE, &tables_.by_grace),
                    "cannot open grace period index");
        // Schema 3 to 4 is these three tables alone: they start empty (what
        // was deleted before is forgotten; nothing was imported before).
        lmdb::check(mdb_dbi_open(raw, kRevokedDb, MDB_CREATE, &tables_.revoked),
                    "cannot open the table of revoked tokens");
        lmdb::check(mdb_dbi_open(raw, kRevokedByUserDb, MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
                                 &tables_.revoked_by_user),
                    "cannot open the index of revoked tokens");
        lmdb::check(mdb_dbi_open(raw, kImportedDb, MDB_CREATE, &tables_.imported),
                    "cannot open the table of imported tokens");
    }

    void check_or_write_header() {
        const auto magic = txn_.find(tables_.meta, kMagicKey);
        if (!magic) {
            txn_.put(tables_.meta, kMagicKey, kMagic);
            txn_.put(tables_.meta, kSchemaKey, encode_u32(version_));
            return;
        }
        const std::uint32_t found = header_version(*magic);
        if (found == version_) {
            return;
        }
        // Only this build's migrations exist: a build acting as a newer one
        // (tests) knows none up to it.
        if (found < kOldestMigratedSchema || found > version_ || version_ > kSchemaVersion) {
            throw schema_mismatch(found);
        }
        migrate(found);
    }

    // Each step from `found` up to our version, in the transaction that
    // opens the store: the migration happens entirely or not at all.
    void migrate(std::uint32_t found) {
        for (std::uint32_t from = found; from < version_; ++from) {
            if (from + 1 == kFirstSchemaWithExpiryIndex) {
                build_expiry_index();
            } else if (from + 1 == kFirstSchemaWithFormat2Records) {
                rewrite_old_records();
            }
        }
        txn_.put(tables_.meta, kSchemaKey, encode_u32(version_));
    }

    // The version in a header of ours; Corrupt when the header is damaged.
    [[nodiscard]] std::uint32_t header_version(std::string_view magic) const {
        const auto schema = txn_.find(tables_.meta, kSchemaKey);
        const auto found = schema ? decode_u32(*schema) : std::nullopt;
        if (magic != kMagic || !found) {
            throw StoreError(StoreErrc::Corrupt, dir_.string() +
                                                     "/data.mdb has a damaged header; it is "
                                                     "not a readable apitoken store");
        }
        return *found;
    }

    // Schema 1 to 2: by_expiry, built from the records.
    void build_expiry_index() {
        Cursor cursor(txn_, tables_.tokens);
        MDB_val key{};
        MDB_val value{};
        for (bool more = cursor.move(MDB_FIRST, key, value); more;
             more = cursor.move(MDB_NEXT, key, value)) {
            const auto id = TokenId::from_bytes(lmdb::as_view(key));
            const auto record = id ? decode_record(*id, lmdb::as_view(value)) : std::nullopt;
            if (record && record->expires) {
                txn_.put(tables_.by_expiry, expiry_key(*record->expires, record->id), {});
            }
        }
    }

    // Schema 2 to 3: every record of an older format written again in the
    // current one (by_grace starts empty: no token was rotated before). The
    // ids come first (6 bytes each), then the writes, so no cursor walks a
    // table being written. A record that does not decode is left as it is,
    // for a human to look at, as the purge does.
    void rewrite_old_records() {
        std::vector<TokenId> old_format;
        Cursor cursor(txn_, tables_.tokens);
        MDB_val key{};
        MDB_val value{};
        for (bool more = cursor.move(MDB_FIRST, key, value); more;
             more = cursor.move(MDB_NEXT, key, value)) {
            const auto id = TokenId::from_bytes(lmdb::as_view(key));
            const auto bytes = lmdb::as_view(value);
            if (id && !bytes.empty() && bytes.front() != static_cast<char>(kRecordFormat)) {
                old_format.push_back(*id);
            }
        }
        for (const auto& id : old_format) {
            const auto bytes = txn_.find(tables_.tokens, id.key());
            if (const auto record = bytes ? decode_record(id, *bytes) : std::nullopt) {
                txn_.put(tables_.tokens, id.key(), encode_record(*record));
            }
        }
    }

    [[nodiscard]] StoreError schema_mismatch(std::uint32_t found) const {
        const std::string head = "the token store in " + dir_.string() + " has schema version " +
                                 std::to_string(found) + ", but this build of apitoken ";
        const std::string ours = std::to_string(version_);
        if (found > version_) {
            return {StoreErrc::SchemaMismatch,
                    head + "only understands version " + ours +
                        "; it was written by a newer apitoken: upgrade apitoken (the store "
                        "was not changed)"};
        }
        return {StoreErrc::SchemaMismatch,
                head + "expects version " + ours +
                    " and knows no migration from it; the store was not changed"};
    }

    Txn& txn_;
    const std::filesystem::path& dir_;
    std::uint32_t version_;
    StoreTables tables_;
};

} // namespace

StoreTables open_store_tables(Txn& txn, const std::filesystem::path& dir,
                              std::uint32_t schema_version) {
    return SchemaOpener(txn, dir, schema_version).open();
}

} // namespace apitoken::store
