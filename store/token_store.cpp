#include "store/token_store.hpp"

#include "store/lmdb_handle.hpp"
#include "store/name_rules.hpp"
#include "store/record_codec.hpp"
#include "store/store_error.hpp"
#include "store/store_impl.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

// The store's life and its basic operations. Token policy operations are
// in token_policy_ops.cpp, usage in store_usage.cpp, the shared machinery
// in store_impl.cpp.
namespace apitoken::store {
namespace {

using lmdb::Cursor;
using lmdb::Txn;

} // namespace

TokenStore::TokenStore(StoreOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TokenStore::TokenStore(TokenStore&&) noexcept = default;
TokenStore& TokenStore::operator=(TokenStore&&) noexcept = default;
TokenStore::~TokenStore() = default;

void TokenStore::create(const TokenRecord& record) {
    create_batch({&record, 1});
}

void TokenStore::create_batch(std::span<const TokenRecord> records) {
    impl_->published_write([&](Txn& txn) {
        for (const auto& record : records) {
            impl_->insert(txn, record);
        }
    });
}

std::optional<TokenRecord> TokenStore::find(const TokenId& id) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return impl_->read(txn, id);
}

std::optional<GoneToken> TokenStore::find_gone(const TokenId& id) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    const auto bytes = txn.find(impl_->tables.revoked, id.key());
    return bytes ? decode_gone_token(*bytes) : std::nullopt;
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

std::vector<TokenRecord> TokenStore::list_all() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    std::vector<TokenRecord> records;
    Cursor cursor(txn, impl_->tables.tokens);
    MDB_val key{};
    MDB_val value{};
    for (bool more = cursor.move(MDB_FIRST, key, value); more;
         more = cursor.move(MDB_NEXT, key, value)) {
        const auto id = TokenId::from_bytes(lmdb::as_view(key));
        if (!id) {
            throw StoreError(StoreErrc::Corrupt, "the token store holds a key that is no token id");
        }
        auto record = decode_record(*id, lmdb::as_view(value));
        if (!record) {
            throw StoreError(StoreErrc::Corrupt,
                             "the record of token " + id->hex() + " in the token store is corrupt");
        }
        records.push_back(std::move(*record));
    }
    return records;
}

std::size_t TokenStore::count() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    MDB_stat stat{};
    lmdb::check(mdb_stat(txn.get(), impl_->tables.tokens, &stat), "cannot count tokens");
    return stat.ms_entries;
}

std::size_t TokenStore::count(std::string_view user) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return impl_->count_of(txn, user);
}

void TokenStore::revoke(std::string_view user, const TokenId& id, std::optional<uid_t> uid) {
    impl_->published_write([&](Txn& txn) { impl_->remove(txn, impl_->owned(txn, user, id, uid)); });
}

std::size_t TokenStore::revoke_all(std::string_view user, std::optional<uid_t> uid) {
    return impl_->published_write([&](Txn& txn) {
        std::size_t revoked = 0;
        for (const auto& id : impl_->ids_of(txn, user)) {
            const auto record = impl_->read(txn, id);
            if (!record) {
                // An index entry without its token belongs to nobody.
                txn.erase(impl_->tables.by_user, user, id.key());
            } else if (!uid || record->uid == *uid) {
                impl_->remove(txn, *record);
                ++revoked;
            }
        }
        return revoked;
    });
}

void TokenStore::rename(std::string_view user, const TokenId& id, std::string_view new_name,
                        std::optional<uid_t> uid) {
    require(token_name_problem(new_name));
    impl_->published_write([&](Txn& txn) {
        const TokenRecord before = impl_->owned(txn, user, id, uid);
        TokenRecord after = before;
        after.name = new_name;
        impl_->check_account_rules(txn, after, false);
        impl_->replace(txn, before, after);
    });
}

std::vector<std::string> TokenStore::users() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    Cursor cursor(txn, impl_->tables.by_user);
    std::vector<std::string> users;
    MDB_val key{};
    MDB_val value{};
    for (bool more = cursor.move(MDB_FIRST, key, value); more;
         more = cursor.move(MDB_NEXT_NODUP, key, value)) {
        users.emplace_back(lmdb::as_view(key));
    }
    return users;
}

std::size_t TokenStore::purge_orphans(std::string_view user, std::optional<uid_t> current_uid) {
    const AccountNow account{std::string(user), current_uid};
    return purge_orphans(std::span(&account, 1));
}

std::size_t TokenStore::purge_orphans(std::span<const AccountNow> accounts) {
    const auto any_orphan = [&](const Txn& txn, const AccountNow& account) {
        const auto ids = impl_->ids_of(txn, account.user);
        return std::any_of(ids.begin(), ids.end(), [&](const TokenId& id) {
            const auto record = impl_->read(txn, id);
            return record && orphaned(*record, account.uid);
        });
    };
    // The hourly purge asks about every user: most have no orphan, and a
    // read costs no write transaction (no write lock, no commit).
    std::vector<const AccountNow*> with_orphans;
    {
        const Txn txn(impl_->env.get(), Txn::Mode::Read);
        for (const AccountNow& account : accounts) {
            if (any_orphan(txn, account)) {
                with_orphans.push_back(&account);
            }
        }
    }
    if (with_orphans.empty()) {
        return 0;
    }
    return impl_->write([&](Txn& txn) {
        std::size_t purged = 0;
        for (const AccountNow* account : with_orphans) {
            for (const auto& id : impl_->ids_of(txn, account->user)) {
                if (const auto record = impl_->read(txn, id);
                    record && orphaned(*record, account->uid)) {
                    impl_->remove(txn, *record);
                    ++purged;
                }
            }
        }
        return purged;
    });
}

bool TokenStore::replace_hash(const TokenId& id, const std::string& old_hash,
                              const std::string& new_hash) {
    return impl_->write([&](Txn& txn) {
        const auto before = impl_->read(txn, id);
        if (!before || before->hash != old_hash) {
            return false;
        }
        TokenRecord after = *before;
        after.hash = new_hash;
        impl_->replace(txn, *before, after);
        return true;
    });
}

std::size_t TokenStore::purge_expired(TimePoint now, std::chrono::seconds grace) {
    return impl_->published_write([&](Txn& txn) {
        const MDB_dbi index = impl_->tables.by_expiry;
        return impl_->purge(txn, index, impl_->due(txn, index, now - grace, &TokenRecord::expires));
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
