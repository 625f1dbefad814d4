#pragma once

#include "store/lmdb_handle.hpp"

#include <cstdint>
#include <filesystem>

namespace apitoken::store {

// The store's tables (named LMDB databases), open for the life of the
// environment.
struct StoreTables {
    MDB_dbi meta = 0;
    MDB_dbi tokens = 0;
    MDB_dbi by_user = 0;
    MDB_dbi by_expiry = 0;
    MDB_dbi by_grace = 0;        // schema 3
    MDB_dbi revoked = 0;         // schema 4: tombstones of deleted tokens
    MDB_dbi revoked_by_user = 0; // schema 4: user -> deletion time + id (DUPSORT)
    MDB_dbi imported = 0;        // schema 4: origin + ':' + origin id -> token id, kept
};

// Run in the write transaction that opens the store: finds a store of ours
// at `schema_version` (or an empty file, which gets our header), migrates
// one of an older schema (1 to 3) step by step, or refuses: another
// program's LMDB file, a newer apitoken's store, a damaged header, a version
// with no migration. A refusal throws StoreError and the caller does not
// commit, so the file is left as it was. A migration that fills the map
// throws lmdb::MapFull (the caller grows the map and tries again). `dir` is
// only for the messages.
[[nodiscard]] StoreTables open_store_tables(lmdb::Txn& txn, const std::filesystem::path& dir,
                                            std::uint32_t schema_version);

} // namespace apitoken::store
