#pragma once

// TokenStore's private half, shared by the files that implement its
// operations (token_store.cpp, token_policy_ops.cpp, store_usage.cpp). Not
// part of the store's interface: nothing outside store/ includes it.

#include "store/change_publisher.hpp"
#include "store/lmdb_handle.hpp"
#include "store/state_directory.hpp"
#include "store/store_error.hpp"
#include "store/store_schema.hpp"
#include "store/token_store.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace apitoken::store {

// The user's tokens of one account (uid) as the per-user rules see them:
// rotated tokens are on their way out and hold neither a name nor a place
// under the maximum, but have a maximum of their own.
struct AccountTokens {
    std::vector<TokenRecord> live; // not rotated
    std::size_t rotated = 0;       // in their grace period
};

// Records due in a time index (by_expiry, by_grace) and index entries whose
// token is gone or says another time.
struct DueEntries {
    std::vector<TokenRecord> records;
    std::vector<std::string> stale;
};

struct TokenStore::Impl {
    StoreOptions options;
    StateDirectory dir;
    lmdb::Env env;
    StoreTables tables;

    // Fleet mode: where published writes go before they commit.
    ChangePublisher* publisher = nullptr;
    // What the published write under way changed (nullptr outside one).
    mutable std::vector<StoreChange>* journal = nullptr;

    explicit Impl(StoreOptions opts);

    // Runs `fn` in a write transaction and commits it. When the map is full,
    // the transaction is dropped, the map doubled (up to the maximum) and
    // `fn` run again, so a full map never leaves a half-done write.
    template <typename Fn>
    auto write(Fn&& fn) {
        refuse_if_moved();
        for (;;) {
            try {
                lmdb::Txn txn(env.get(), lmdb::Txn::Mode::Write);
                if constexpr (std::is_void_v<std::invoke_result_t<Fn&, lmdb::Txn&>>) {
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

    // write() for the changes a user or admin makes (not the store's own
    // bookkeeping): in fleet mode they go to the publisher before the commit
    // (see publish_or_queue). Without a publisher, write().
    template <typename Fn>
    auto published_write(Fn&& fn) {
        if (publisher == nullptr) {
            return write(std::forward<Fn>(fn));
        }
        // A full map runs the write again: what the first run published is
        // not published twice (the database would refuse it as a stale or
        // duplicate change).
        std::optional<std::vector<StoreChange>> published;
        return write([&](lmdb::Txn& txn) {
            std::vector<StoreChange> changes;
            const JournalScope scope(*this, changes);
            if constexpr (std::is_void_v<std::invoke_result_t<Fn&, lmdb::Txn&>>) {
                fn(txn);
                publish_or_queue(txn, changes, published);
            } else {
                auto result = fn(txn);
                publish_or_queue(txn, changes, published);
                return result;
            }
        });
    }

    // Points `journal` at a write's changes for as long as it runs.
    class JournalScope {
    public:
        JournalScope(const Impl& impl, std::vector<StoreChange>& changes) : impl_(impl) {
            impl_.journal = &changes;
        }
        JournalScope(const JournalScope&) = delete;
        JournalScope& operator=(const JournalScope&) = delete;
        JournalScope(JournalScope&&) = delete;
        JournalScope& operator=(JournalScope&&) = delete;
        ~JournalScope() { impl_.journal = nullptr; }

    private:
        const Impl& impl_;
    };

    // Sends a write's changes to the publisher. Unreachable: deletions
    // alone are queued in this transaction (a revocation is never refused
    // or lost); anything else throws FleetUnreachable and nothing commits.
    // `earlier`: what an earlier run of the same write published.
    void publish_or_queue(lmdb::Txn& txn, std::vector<StoreChange>& changes,
                          std::optional<std::vector<StoreChange>>& earlier) const;
    void note_change(const lmdb::Txn& txn, const TokenId& id, const TokenRecord* record) const;
    // Fleet mode: the fleet database's version of the replica's token.
    [[nodiscard]] std::optional<std::uint64_t> fleet_version(const lmdb::Txn& txn,
                                                             const TokenId& id) const;
    void set_fleet_version(lmdb::Txn& txn, const TokenId& id, std::uint64_t version) const;
    // Fleet mode: what the database said about a token's uses goes with it.
    void forget_fleet_usage(lmdb::Txn& txn, const TokenId& id) const;

    void open_environment();
    void open_databases();
    void refuse_if_moved() const;
    [[noreturn]] void throw_with_disk_diagnosis(const StoreError& error) const;
    void grow_map() const;
    [[nodiscard]] bool in_place() const;
    [[nodiscard]] std::size_t map_size() const;

    // Reading.
    [[nodiscard]] std::optional<TokenRecord> read(const lmdb::Txn& txn, const TokenId& id) const;
    [[nodiscard]] std::vector<TokenId> ids_of(const lmdb::Txn& txn, std::string_view user) const;
    [[nodiscard]] std::size_t count_of(const lmdb::Txn& txn, std::string_view user) const;
    // `user`'s tokens made for `uid`, but `except`.
    [[nodiscard]] AccountTokens account_tokens(const lmdb::Txn& txn, std::string_view user,
                                               uid_t uid, std::optional<TokenId> except) const;
    // The token, provided it belongs to `user` (and, given `uid`, to that
    // account); NotFound otherwise.
    [[nodiscard]] TokenRecord owned(const lmdb::Txn& txn, std::string_view user, const TokenId& id,
                                    std::optional<uid_t> uid) const;
    // The records a time index lists up to `cutoff` (inclusive); `field` is
    // the record's time that index is by.
    [[nodiscard]] DueEntries due(const lmdb::Txn& txn, MDB_dbi index, TimePoint cutoff,
                                 std::optional<TimePoint> TokenRecord::*field) const;

    // The per-user rules for `record` as it is about to be stored, among the
    // other tokens of its account: its name is free (DuplicateName; a
    // rotated token holds none) and, when it `arrives` (a new token, or one
    // becoming rotated), there is room for it (TooManyTokens).
    void check_account_rules(const lmdb::Txn& txn, const TokenRecord& record, bool arrives) const;

    // Writing. insert() validates and checks the account rules first.
    void insert(lmdb::Txn& txn, const TokenRecord& record) const;
    // Writes a new record and its index entries, unchecked (insert() and the
    // fleet replica, whose truth is elsewhere).
    void put_new(lmdb::Txn& txn, const TokenRecord& record) const;
    // Writes `after` over `before` (same id and user), moving its entries in
    // the time indexes when its expiry or grace changed.
    void replace(lmdb::Txn& txn, const TokenRecord& before, const TokenRecord& after) const;
    void remove(lmdb::Txn& txn, const TokenRecord& record) const;
    void remember_gone(lmdb::Txn& txn, const TokenRecord& record) const;
    // Deletes what `due` found.
    std::size_t purge(lmdb::Txn& txn, MDB_dbi index, const DueEntries& due) const;
};

// Throws StoreError(InvalidArgument) with the first problem of `record`.
void validate_record(const TokenRecord& record);
// Throws StoreError(InvalidArgument) with `problem`, unless it is empty.
void require(const std::string& problem);

} // namespace apitoken::store
