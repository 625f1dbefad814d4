#pragma once

#include <lmdb.h>

#include <exception>
#include <memory>
#include <optional>
#include <string_view>

// Thin RAII over the LMDB C API, and the one place where LMDB return codes
// become StoreErrors.
namespace apitoken::store::lmdb {

// The map is full: internal to the store, which grows the map and retries.
class MapFull : public std::exception {
public:
    [[nodiscard]] const char* what() const noexcept override { return "LMDB map full"; }
};

// Throws MapFull for MDB_MAP_FULL, else StoreError with a code that fits rc.
[[noreturn]] void throw_error(int rc, std::string_view what);

inline void check(int rc, std::string_view what) {
    if (rc != MDB_SUCCESS) {
        throw_error(rc, what);
    }
}

inline std::string_view as_view(const MDB_val& value) noexcept {
    return {static_cast<const char*>(value.mv_data), value.mv_size};
}

inline MDB_val as_val(std::string_view value) noexcept {
    // LMDB never writes through a key or data pointer passed in.
    return {value.size(), const_cast<char*>(value.data())};
}

struct EnvDeleter {
    void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
};
using Env = std::unique_ptr<MDB_env, EnvDeleter>;

class Txn {
public:
    enum class Mode { Read, Write };

    Txn(MDB_env* env, Mode mode);
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    Txn(Txn&&) = delete;
    Txn& operator=(Txn&&) = delete;
    ~Txn();

    // Commits; afterwards the transaction is gone. On failure, LMDB has
    // already freed it, and nothing was written.
    void commit();

    [[nodiscard]] MDB_txn* get() const noexcept { return txn_; }

    // The value for `key`, or nullopt. The view is valid until the
    // transaction ends or the next write in it.
    [[nodiscard]] std::optional<std::string_view> find(MDB_dbi dbi, std::string_view key) const;

    // False when flags include MDB_NOOVERWRITE/MDB_NODUPDATA and the
    // key (or key/value pair) exists already.
    bool put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);

    // False when there was nothing to delete. With `value`, deletes only that
    // duplicate of a MDB_DUPSORT key.
    bool erase(MDB_dbi dbi, std::string_view key,
               std::optional<std::string_view> value = std::nullopt);

private:
    MDB_txn* txn_ = nullptr;
};

class Cursor {
public:
    Cursor(const Txn& txn, MDB_dbi dbi);

    // Positions the cursor; false at the end / when nothing matches.
    bool move(MDB_cursor_op op, MDB_val& key, MDB_val& value);
    // Number of duplicates of the current key (MDB_DUPSORT databases).
    [[nodiscard]] std::size_t duplicates() const;
    void erase_current();

private:
    struct Deleter {
        void operator()(MDB_cursor* cursor) const noexcept { mdb_cursor_close(cursor); }
    };
    std::unique_ptr<MDB_cursor, Deleter> cursor_;
};

} // namespace apitoken::store::lmdb
