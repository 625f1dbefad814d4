#include "store/lmdb_handle.hpp"

#include "store/store_error.hpp"

#include <cerrno>
#include <string>
#include <system_error>

namespace apitoken::store::lmdb {

void throw_error(int rc, std::string_view what) {
    // mdb_strerror falls back to strerror() for system errors, which is not
    // thread-safe; the daemon has worker threads, so format those ourselves.
    const std::string cause =
        rc > 0 ? std::generic_category().message(rc) : std::string(mdb_strerror(rc));
    const std::string message = std::string(what) + ": " + cause;
    switch (rc) {
    case MDB_MAP_FULL: throw MapFull();
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_VALSIZE: throw StoreError(StoreErrc::Corrupt, message);
    case ENOSPC:
    case EDQUOT: throw StoreError(StoreErrc::Full, message);
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOENT:
    case ENOTDIR: throw StoreError(StoreErrc::StateDirUnusable, message);
    default: throw StoreError(StoreErrc::Io, message);
    }
}

Txn::Txn(MDB_env* env, Mode mode) {
    check(mdb_txn_begin(env, nullptr, mode == Mode::Read ? MDB_RDONLY : 0U, &txn_),
          "cannot begin a transaction on the token store");
}

Txn::~Txn() {
    if (txn_ != nullptr) {
        mdb_txn_abort(txn_);
    }
}

void Txn::commit() {
    MDB_txn* txn = txn_;
    txn_ = nullptr;
    check(mdb_txn_commit(txn), "cannot commit to the token store");
}

std::optional<std::string_view> Txn::find(MDB_dbi dbi, std::string_view key) const {
    MDB_val k = as_val(key);
    MDB_val v{};
    const int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return std::nullopt;
    }
    check(rc, "cannot read the token store");
    return as_view(v);
}

bool Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    const int rc = mdb_put(txn_, dbi, &k, &v, flags);
    if (rc == MDB_KEYEXIST) {
        return false;
    }
    check(rc, "cannot write to the token store");
    return true;
}

bool Txn::erase(MDB_dbi dbi, std::string_view key, std::optional<std::string_view> value) {
    MDB_val k = as_val(key);
    MDB_val v = value ? as_val(*value) : MDB_val{};
    const int rc = mdb_del(txn_, dbi, &k, value ? &v : nullptr);
    if (rc == MDB_NOTFOUND) {
        return false;
    }
    check(rc, "cannot delete from the token store");
    return true;
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) {
    MDB_cursor* cursor = nullptr;
    check(mdb_cursor_open(txn.get(), dbi, &cursor), "cannot open a cursor on the token store");
    cursor_.reset(cursor);
}

bool Cursor::move(MDB_cursor_op op, MDB_val& key, MDB_val& value) {
    const int rc = mdb_cursor_get(cursor_.get(), &key, &value, op);
    if (rc == MDB_NOTFOUND) {
        return false;
    }
    check(rc, "cannot read the token store");
    return true;
}

std::size_t Cursor::duplicates() const {
    std::size_t count = 0;
    check(mdb_cursor_count(cursor_.get(), &count), "cannot count in the token store");
    return count;
}

void Cursor::erase_current() {
    check(mdb_cursor_del(cursor_.get(), 0), "cannot delete from the token store");
}

} // namespace apitoken::store::lmdb
