#pragma once

#include <sys/types.h>

#include "store/change_publisher.hpp"
#include "store/gone_token.hpp"
#include "store/token_record.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::store {

// Version of the store's layout; bump it (and add a migration) whenever the
// meaning of what is on disk changes.
// 1: tokens, by_user, meta. 2: adds by_expiry (built from tokens on open).
// 3: records of format 2 (token policy fields; every record rewritten on
//    open), by_grace (rotated tokens by the end of their grace period).
// 4: revoked (what is left of a deleted token: whose, its name, when and
//    why it went), for leak scans; imported (which foreign tokens were
//    imported, so that an import run twice brings nothing back).
inline constexpr std::uint32_t kSchemaVersion = 4;

// What update() changes; nullopt fields stay as they are.
struct TokenUpdate {
    std::optional<std::string> name{};
    std::optional<std::string> description{};
    std::optional<std::vector<std::string>> services{};
    std::optional<std::vector<std::string>> sources{};
    std::optional<std::vector<std::string>> hosts{};
    std::optional<std::optional<TimePoint>> expires{}; // set to a time, or to "never"
};

// What import_tokens() did with one token.
struct ImportOutcome {
    // False: its origin id was imported before (and may have been revoked
    // since); nothing was done.
    bool imported = false;
    TokenId id;       // its id here (for one imported before: the id it got then)
    std::string name; // its name here ("" for one imported before and gone since)
};

// What consume_use() found.
enum class UseVerdict {
    Counted,   // the use is on disk; the token may be used
    Exhausted, // max_uses reached before: refuse (nothing written)
    Gone,      // no such token (revoked meanwhile)
};

struct StoreOptions {
    std::filesystem::path state_dir = "/var/lib/apitoken";
    std::size_t max_tokens_per_user = 100;
    // LMDB maps the store into memory; the map starts at initial_map_size and
    // doubles when full, up to max_map_size (only touched pages use memory).
    std::size_t initial_map_size = std::size_t{64} << 20U;
    std::size_t max_map_size = std::size_t{4} << 30U;
    // The schema this build writes and expects. Only tests change it, to act
    // as an older or newer build.
    std::uint32_t schema_version = kSchemaVersion;
};

// How many deleted tokens' tombstones the store keeps per user: four
// times the tokens a user may hold, at least 16.
[[nodiscard]] constexpr std::size_t gone_tokens_kept(const StoreOptions& options) noexcept {
    return options.max_tokens_per_user > 4 ? 4 * options.max_tokens_per_user : 16;
}

// The token store: LMDB in the state directory, holding one record per token
// (key: the 6 id bytes), an index of ids by user, indexes of expiring
// tokens by expiry time and of rotated tokens by the end of their grace
// period (so that a purge reads only what it deletes), and a meta table with
// the schema version. Every write is one LMDB transaction, durable once the call
// returns (LMDB fsyncs on commit), and all-or-nothing: a failed call changes
// nothing. Not thread-safe: one thread uses a store at a time.
//
// Failures throw StoreError (see store_error.hpp).
//
// Accounts: a record keeps the uid its owner had when it was made. A user
// deleted and made again (another uid) must not inherit the old account's
// tokens, so the per-user rules (a token name is unique, at most
// max_tokens_per_user tokens) count only the tokens of the same uid, and
// the calls made for a user take that user's current uid (`uid`): tokens of
// another uid answer as if they did not exist. nullopt means any uid (root
// and admins cleaning up orphans). Rotated tokens in their grace period hold
// no name and are not counted among the maximum; at most as many again may
// be in their grace period.
class TokenStore {
public:
    explicit TokenStore(StoreOptions options);
    TokenStore(const TokenStore&) = delete;
    TokenStore& operator=(const TokenStore&) = delete;
    TokenStore(TokenStore&& other) noexcept;
    TokenStore& operator=(TokenStore&& other) noexcept;
    ~TokenStore();

    // Adds a token. Refuses (DuplicateId, DuplicateName, TooManyTokens,
    // InvalidArgument) without writing anything. The name must be unique,
    // and the maximum not reached, among the tokens of `record.uid`.
    void create(const TokenRecord& record);
    // Adds many tokens in one transaction: all of them or none.
    void create_batch(std::span<const TokenRecord> records);
    // Adds tokens imported from elsewhere (origin and origin_id set; the
    // hash may be the origin's, imported_hash.hpp), in one transaction: all
    // or none, each outcome in the order given. A token whose origin id was
    // imported before is left out, even if it was revoked since. A name
    // that is not one of ours, or is taken in the account, is made unique
    // ("name (2)", or origin + "-" + the origin id's first 8 characters).
    // TooManyTokens, InvalidArgument as for create(). With `dry_run`,
    // answers what would be done and writes nothing.
    std::vector<ImportOutcome> import_tokens(std::span<const TokenRecord> records, bool dry_run);

    [[nodiscard]] std::optional<TokenRecord> find(const TokenId& id) const;
    // What is left of a token that was deleted (revoked, rotated away,
    // purged after its expiry, or its owner's account gone): every
    // deletion leaves one; the last gone_tokens_kept() of each user are
    // kept (some 60 bytes each). nullopt for an id that never was in this
    // store, was deleted before schema 4, or was forgotten since.
    [[nodiscard]] std::optional<GoneToken> find_gone(const TokenId& id) const;
    // The user's tokens, oldest first.
    [[nodiscard]] std::vector<TokenRecord> list(std::string_view user) const;
    [[nodiscard]] std::size_t count() const;
    [[nodiscard]] std::size_t count(std::string_view user) const;

    // NotFound unless the token exists and belongs to `user` (and `uid`):
    // nobody learns whether another user's token id exists.
    void revoke(std::string_view user, const TokenId& id, std::optional<uid_t> uid = std::nullopt);
    // Deletes `user`'s tokens (of `uid`); returns how many.
    std::size_t revoke_all(std::string_view user, std::optional<uid_t> uid = std::nullopt);
    void rename(std::string_view user, const TokenId& id, std::string_view new_name,
                std::optional<uid_t> uid = std::nullopt);

    // Swaps the hash only if it is still `old_hash` (a re-hash computed off
    // the store's thread must not resurrect a token revoked meanwhile).
    bool replace_hash(const TokenId& id, const std::string& old_hash, const std::string& new_hash);

    // Applies many uses in one write transaction (count, last use, recent
    // sources); uses of tokens revoked meanwhile are dropped. Returns how
    // many were applied.
    std::size_t record_usage(std::span<const UsageEvent> events);

    // Every token of every user, in id order (the admin's inventory; reads
    // the whole table, so only for explicit requests).
    [[nodiscard]] std::vector<TokenRecord> list_all() const;
    // Changes what `update` names in `user`'s token `id`, in one
    // transaction: NotFound unless it exists and is theirs (and `uid`'s),
    // DuplicateName, InvalidArgument (as create()). Keeps the by_expiry
    // index right; a new expiry re-arms the "expires soon" event
    // (expiry_warned). Returns the record as it is now.
    TokenRecord update(std::string_view user, const TokenId& id, const TokenUpdate& update,
                       std::optional<uid_t> uid = std::nullopt);
    // Rotation: stores `successor` (a new token with rotated_from = `id`)
    // and marks `user`'s token `id` as rotated to it, working until
    // `grace_until` (nullopt: deleted in the same transaction). NotFound
    // unless `id` exists and is theirs (and `uid`'s); InvalidArgument when
    // it is rotated already (in its grace period), or when the successor
    // is not `user`'s, does not name `id` in rotated_from, or is invalid as
    // for create(); the successor's name may equal the old one's (the old
    // is on its way out). DuplicateName, TooManyTokens as for create().
    void rotate(std::string_view user, const TokenId& id, const TokenRecord& successor,
                std::optional<TimePoint> grace_until, std::optional<uid_t> uid = std::nullopt);
    // A use of a token with a use limit, written (fsync'ed) before the
    // caller may answer success: use_count, last use and recent sources in
    // one transaction, unless the limit was reached. (A token without a
    // limit is counted too, at the cost of a synchronous write.) Such a
    // token's uses must not also go through record_usage(): they would
    // count twice.
    UseVerdict consume_use(const UsageEvent& use);
    // consume_use for many uses in one transaction (one fsync: what a
    // flood of uses costs the disk), each verdict in the order given.
    std::vector<UseVerdict> consume_uses(std::span<const UsageEvent> uses);
    // Marks that the "expires soon" event was logged for `id` (nothing to
    // mark for a token revoked meanwhile).
    void set_expiry_warned(const TokenId& id);
    // Tokens that expire at or before `until` (or did), soonest first
    // (through the expiry index: reads only those).
    [[nodiscard]] std::vector<TokenRecord> expiring_by(TimePoint until) const;
    // Deletes the tokens chosen (read from the store before), in one
    // transaction, each only if it is still the token that was chosen (same
    // owner, uid and creation time); returns the ids deleted.
    std::vector<TokenId> revoke_many(std::span<const TokenRecord> tokens);
    // Deletes rotated tokens whose grace period ended at or before `now`;
    // returns how many.
    std::size_t purge_rotated(TimePoint now);
    // Every user who has tokens, in byte order.
    [[nodiscard]] std::vector<std::string> users() const;
    // Deletes `user`'s orphaned tokens (orphaned() in token_record.hpp):
    // those made for another uid than `current_uid` (the account was
    // deleted and made again), or all of them when `current_uid` is
    // nullopt (the account is gone); they belong to nobody. Reads only
    // this user's tokens, and writes only when one is orphaned. Returns
    // how many went.
    std::size_t purge_orphans(std::string_view user, std::optional<uid_t> current_uid);
    // The same for many accounts, in one write transaction (one fsync):
    // the hourly purge, where a directory that lost many users at once
    // must not cost one commit each.
    struct AccountNow {
        std::string user;
        std::optional<uid_t> uid; // nullopt: the account is gone
    };
    std::size_t purge_orphans(std::span<const AccountNow> accounts);
    // Deletes tokens that expired more than `grace` before `now`.
    std::size_t purge_expired(TimePoint now, std::chrono::seconds grace);

    // Fleet mode (replica_ops.cpp). From now on, the writes of users and
    // admins (create, import, update, rename, rotate, revoke, the purges of
    // expired and rotated tokens) go to `publisher` before they commit
    // (change_publisher.hpp); nullptr: single-host mode again.
    void set_publisher(ChangePublisher* publisher) noexcept;
    // Applies changes that came from the fleet, in one transaction, and
    // records how far the replica got: `seq` and when (`synced_at`). Upserts
    // keep this host's usage statistics of the token (and a token's
    // "expires soon" mark); a token queued for revocation here stays gone.
    // No per-user rules: the fleet database decided. With `whole`, the
    // changes are the whole replica (a snapshot): every token not among
    // them goes. Returns how many records were refused as invalid (left out).
    // `fleet_id` names the database the replica follows ("": as before).
    // With `reset` (a snapshot of another database, or of one whose log
    // went back), the replica's versions mean nothing any more: the
    // snapshot wins over every one of them.
    std::size_t apply_replica(std::span<const StoreChange> changes, std::uint64_t seq,
                              TimePoint synced_at, bool whole, std::string_view fleet_id = {},
                              bool reset = false);
    // How far the replica got; nullopt for a store that never synced.
    struct ReplicaPosition {
        std::uint64_t seq = 0;
        TimePoint synced_at{};
        std::string fleet_id{};
    };
    [[nodiscard]] std::optional<ReplicaPosition> replica_position() const;
    // Records only when this host last heard from the fleet (nothing new).
    void mark_replica_synced(TimePoint synced_at);
    // Revocations made while the fleet database was unreachable, oldest first.
    [[nodiscard]] std::vector<TokenId> queued_revocations() const;
    void forget_queued_revocations(std::span<const TokenId> ids);
    // The fleet-wide usage of tokens, as the database last said (kept in
    // one transaction; a token's entry goes with the token).
    void put_fleet_usage(std::span<const FleetUsage> usage);
    [[nodiscard]] std::optional<FleetUsage> fleet_usage(const TokenId& id) const;
    // This host's uses that the fleet database does not have yet, summed
    // per token (`host` unused): kept here so that a restart, also during
    // an outage, loses none of the fleet-wide counts. Uses of a token that
    // is gone are not kept.
    void queue_fleet_usage(std::span<const FleetUsage> uses);
    [[nodiscard]] std::vector<FleetUsage> queued_fleet_usage() const;
    // The database has `sent`: their counts leave the queue (uses queued
    // since they were read stay).
    void forget_queued_fleet_usage(std::span<const FleetUsage> sent);

    [[nodiscard]] std::size_t map_size() const;
    // False once data.mdb in the state directory is no longer the file this
    // store has open (the directory was removed or replaced under it): what
    // is written then would be lost, so every write refuses
    // (StateDirUnusable), and the daemon exits to be restarted.
    [[nodiscard]] bool still_in_place() const;
    [[nodiscard]] const std::filesystem::path& state_dir() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace apitoken::store
