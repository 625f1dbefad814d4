// Fleet mode's side of the store: the replica's changes from the fleet
// database, how far it got, and the revocations waiting for the database.
// All of it lives in the meta table, under keys an older build ignores.
#include "store/store_impl.hpp"
#include "store/store_keys.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace apitoken::store {
namespace {

using lmdb::Cursor;
using lmdb::Txn;

constexpr std::string_view kSeqKey = "fleet.seq";
constexpr std::string_view kSyncedAtKey = "fleet.synced_at";
constexpr std::string_view kRevocationPrefix = "fleet.revoke:";
constexpr std::string_view kUsagePrefix = "fleet.usage:";
constexpr std::string_view kUnsentUsagePrefix = "fleet.unsent:";
constexpr std::string_view kVersionPrefix = "fleet.version:";
constexpr std::string_view kFleetIdKey = "fleet.id";
constexpr std::string_view kRevokedHerePrefix = "fleet.revoked:";
constexpr std::size_t kU64Bytes = 8;

// The meta key of one token's entry of a kind (`prefix`).
std::string meta_key(std::string_view prefix, const TokenId& id) {
    return std::string(prefix) + std::string(id.key());
}

std::string revocation_key(const TokenId& id) {
    return meta_key(kRevocationPrefix, id);
}

std::string version_key(const TokenId& id) {
    return meta_key(kVersionPrefix, id);
}

// A token revoked on this host (published or queued): no batch read before
// the revocation brings it back. Ids are random, never reused.
std::string revoked_here_key(const TokenId& id) {
    return meta_key(kRevokedHerePrefix, id);
}

std::string usage_key(const TokenId& id) {
    return meta_key(kUsagePrefix, id);
}

// This host's uses of a token that the fleet database does not have yet.
std::string unsent_usage_key(const TokenId& id) {
    return meta_key(kUnsentUsagePrefix, id);
}

// Times as Unix seconds in encode_u64's 8 bytes.
std::string encode_time(TimePoint when) {
    return encode_u64(static_cast<std::uint64_t>(when.time_since_epoch().count()));
}

std::optional<TimePoint> decode_time(std::string_view bytes) {
    const auto seconds = decode_u64(bytes);
    if (!seconds) {
        return std::nullopt;
    }
    return TimePoint{std::chrono::seconds{static_cast<std::int64_t>(*seconds)}};
}

// A meta value of 8 bytes, if there is one.
std::optional<std::uint64_t> meta_u64(const Txn& txn, MDB_dbi meta, std::string_view key) {
    const auto bytes = txn.find(meta, key);
    return bytes ? decode_u64(*bytes) : std::nullopt;
}

// use_count, last_used (8 bytes each), then host, service and rhost, each
// ended by a NUL (none of them can hold one).
std::string encode_usage(const FleetUsage& usage) {
    return encode_u64(usage.use_count) + encode_time(usage.last_used) + usage.host + '\0' +
           usage.service + '\0' + usage.rhost + '\0';
}

std::optional<FleetUsage> decode_usage(const TokenId& id, std::string_view bytes) {
    if (bytes.size() < 2 * kU64Bytes) {
        return std::nullopt;
    }
    FleetUsage usage{.id = id};
    usage.use_count = *decode_u64(bytes.substr(0, kU64Bytes));
    usage.last_used = *decode_time(bytes.substr(kU64Bytes, kU64Bytes));
    bytes.remove_prefix(2 * kU64Bytes);
    for (std::string* field : {&usage.host, &usage.service, &usage.rhost}) {
        const auto end = bytes.find('\0');
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        *field = bytes.substr(0, end);
        bytes.remove_prefix(end + 1);
    }
    return usage;
}

// Every token's entry of a kind (`prefix`) in the meta table, in key order.
template <typename Visit>
void for_each_entry(const Txn& txn, MDB_dbi meta, std::string_view prefix, Visit&& visit) {
    Cursor cursor(txn, meta);
    MDB_val key{};
    MDB_val value{};
    const std::string start(prefix);
    key.mv_data = const_cast<char*>(start.data()); // NOLINT(cppcoreguidelines-pro-type-const-cast)
    key.mv_size = start.size();
    for (bool more = cursor.move(MDB_SET_RANGE, key, value); more;
         more = cursor.move(MDB_NEXT, key, value)) {
        const auto name = lmdb::as_view(key);
        if (!name.starts_with(prefix)) {
            break;
        }
        if (const auto id = TokenId::from_bytes(name.substr(prefix.size()))) {
            visit(*id, lmdb::as_view(value));
        }
    }
}

// A token's usage entry of a kind (`key`), if there is one.
std::optional<FleetUsage> usage_at(const Txn& txn, MDB_dbi meta, std::string_view key,
                                   const TokenId& id) {
    const auto bytes = txn.find(meta, key);
    return bytes ? decode_usage(id, *bytes) : std::nullopt;
}

// The fleet's record, with what only this host knows about the token.
TokenRecord merged(TokenRecord fleet, const TokenRecord& local) {
    fleet.use_count = local.use_count;
    fleet.last_used = local.last_used;
    fleet.last_service = local.last_service;
    fleet.last_rhost = local.last_rhost;
    fleet.recent_sources = local.recent_sources;
    fleet.expiry_warned = local.expiry_warned && fleet.expires == local.expires;
    return fleet;
}

std::vector<TokenId> all_ids(const Txn& txn, MDB_dbi tokens) {
    std::vector<TokenId> ids;
    Cursor cursor(txn, tokens);
    MDB_val key{};
    MDB_val value{};
    for (bool more = cursor.move(MDB_FIRST, key, value); more;
         more = cursor.move(MDB_NEXT, key, value)) {
        if (const auto id = TokenId::from_bytes(lmdb::as_view(key))) {
            ids.push_back(*id);
        }
    }
    return ids;
}

} // namespace

// A revocation is never refused or lost: when the database cannot take
// it (unreachable, or it refuses), it is applied here and queued.
void TokenStore::Impl::publish_or_queue(Txn& txn, std::vector<StoreChange>& changes,
                                        std::optional<std::vector<StoreChange>>& earlier) const {
    if (changes.empty()) {
        return;
    }
    const bool deletions_only = std::all_of(changes.begin(), changes.end(),
                                            [](const StoreChange& c) { return c.deletion(); });
    bool published = false;
    if (earlier && earlier->size() == changes.size()) {
        changes = *earlier;
        published = true;
    } else {
        try {
            published = publisher->publish(changes);
        } catch (const StoreError& error) {
            if (!deletions_only || error.code() != StoreErrc::FleetRefused) {
                throw;
            }
        }
        if (published) {
            earlier = changes;
        }
    }
    for (const auto& change : changes) {
        if (change.deletion()) {
            txn.put(tables.meta, revoked_here_key(change.id), {});
        }
    }
    if (published) {
        for (const auto& change : changes) {
            if (!change.deletion() && change.version) {
                set_fleet_version(txn, change.id, *change.version);
            }
        }
        return;
    }
    if (!deletions_only) {
        throw StoreError(StoreErrc::FleetUnreachable,
                         "fleet database unreachable: the change was not made (revocations "
                         "are queued; anything else needs the database)");
    }
    for (const auto& change : changes) {
        txn.put(tables.meta, revocation_key(change.id), {});
    }
}

std::optional<std::uint64_t> TokenStore::Impl::fleet_version(const Txn& txn,
                                                             const TokenId& id) const {
    return meta_u64(txn, tables.meta, version_key(id));
}

void TokenStore::Impl::set_fleet_version(Txn& txn, const TokenId& id, std::uint64_t version) const {
    txn.put(tables.meta, version_key(id), encode_u64(version));
}

void TokenStore::Impl::forget_fleet_usage(Txn& txn, const TokenId& id) const {
    txn.erase(tables.meta, usage_key(id));
    txn.erase(tables.meta, unsent_usage_key(id));
    txn.erase(tables.meta, version_key(id));
}

void TokenStore::put_fleet_usage(std::span<const FleetUsage> usage) {
    impl_->write([&](Txn& txn) {
        for (const auto& entry : usage) {
            if (txn.find(impl_->tables.tokens, entry.id.key())) {
                txn.put(impl_->tables.meta, usage_key(entry.id), encode_usage(entry));
            }
        }
    });
}

std::optional<FleetUsage> TokenStore::fleet_usage(const TokenId& id) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return usage_at(txn, impl_->tables.meta, usage_key(id), id);
}

// Counts add up; the latest use names the service and rhost.
void TokenStore::queue_fleet_usage(std::span<const FleetUsage> uses) {
    impl_->write([&](Txn& txn) {
        for (const auto& use : uses) {
            if (!txn.find(impl_->tables.tokens, use.id.key())) {
                continue; // gone: its uses count nowhere any more
            }
            const auto key = unsent_usage_key(use.id);
            auto sum =
                usage_at(txn, impl_->tables.meta, key, use.id).value_or(FleetUsage{.id = use.id});
            sum.add(use);
            txn.put(impl_->tables.meta, key, encode_usage(sum));
        }
    });
}

std::vector<FleetUsage> TokenStore::queued_fleet_usage() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    std::vector<FleetUsage> uses;
    for_each_entry(txn, impl_->tables.meta, kUnsentUsagePrefix,
                   [&](const TokenId& id, std::string_view value) {
                       if (auto use = decode_usage(id, value)) {
                           uses.push_back(std::move(*use));
                       }
                   });
    return uses;
}

// Only the counts sent: uses queued while they were on their way stay.
void TokenStore::forget_queued_fleet_usage(std::span<const FleetUsage> sent) {
    impl_->write([&](Txn& txn) {
        for (const auto& use : sent) {
            const auto key = unsent_usage_key(use.id);
            auto sum = usage_at(txn, impl_->tables.meta, key, use.id);
            if (!sum || sum->use_count <= use.use_count) {
                txn.erase(impl_->tables.meta, key);
                continue;
            }
            sum->use_count -= use.use_count;
            txn.put(impl_->tables.meta, key, encode_usage(*sum));
        }
    });
}

void TokenStore::set_publisher(ChangePublisher* publisher) noexcept {
    impl_->publisher = publisher;
}

// What this host wrote itself may be newer than a batch the follower read
// while the write was under way: an upsert older than the replica's version
// of the token, an upsert of a token revoked here, and a snapshot's
// silence about a token created here after it was read change nothing.
std::size_t TokenStore::apply_replica(std::span<const StoreChange> changes, std::uint64_t seq,
                                      TimePoint synced_at, bool whole, std::string_view fleet_id,
                                      bool reset) {
    return impl_->write([&](Txn& txn) {
        std::size_t refused = 0;
        std::set<TokenId> present;
        for (const auto& change : changes) {
            const auto local = impl_->read(txn, change.id);
            const bool queued = txn.find(impl_->tables.meta, revocation_key(change.id)).has_value();
            if (change.deletion() || queued) {
                if (local) {
                    impl_->remove(txn, *local);
                }
                continue;
            }
            const std::uint64_t version = change.version.value_or(seq);
            const auto local_version = reset ? std::nullopt : impl_->fleet_version(txn, change.id);
            if ((local && local_version && *local_version >= version) ||
                txn.find(impl_->tables.meta, revoked_here_key(change.id))) {
                present.insert(change.id);
                continue;
            }
            try {
                validate_record(*change.record);
            } catch (const StoreError&) {
                ++refused;
                continue;
            }
            present.insert(change.id);
            if (local && local->user == change.record->user) {
                impl_->replace(txn, *local, merged(*change.record, *local));
            } else {
                if (local) {
                    impl_->remove(txn, *local);
                }
                impl_->put_new(txn, *change.record);
            }
            impl_->set_fleet_version(txn, change.id, version);
        }
        if (whole) {
            for (const auto& id : all_ids(txn, impl_->tables.tokens)) {
                const auto local_version = reset ? std::nullopt : impl_->fleet_version(txn, id);
                if (present.contains(id) || (local_version && *local_version > seq)) {
                    continue;
                }
                if (const auto local = impl_->read(txn, id)) {
                    impl_->remove(txn, *local);
                }
            }
        }
        txn.put(impl_->tables.meta, kSeqKey, encode_u64(seq));
        if (!fleet_id.empty()) {
            txn.put(impl_->tables.meta, kFleetIdKey, fleet_id);
        }
        txn.put(impl_->tables.meta, kSyncedAtKey, encode_time(synced_at));
        return refused;
    });
}

std::optional<TokenStore::ReplicaPosition> TokenStore::replica_position() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    const auto seq = meta_u64(txn, impl_->tables.meta, kSeqKey);
    const auto at_bytes = txn.find(impl_->tables.meta, kSyncedAtKey);
    const auto at = at_bytes ? decode_time(*at_bytes) : std::nullopt;
    if (!seq || !at) {
        return std::nullopt;
    }
    const auto fleet_id = txn.find(impl_->tables.meta, kFleetIdKey);
    return ReplicaPosition{*seq, *at, fleet_id ? std::string(*fleet_id) : std::string()};
}

void TokenStore::mark_replica_synced(TimePoint synced_at) {
    impl_->write(
        [&](Txn& txn) { txn.put(impl_->tables.meta, kSyncedAtKey, encode_time(synced_at)); });
}

std::vector<TokenId> TokenStore::queued_revocations() const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    std::vector<TokenId> ids;
    for_each_entry(txn, impl_->tables.meta, kRevocationPrefix,
                   [&](const TokenId& id, std::string_view /*value*/) { ids.push_back(id); });
    return ids;
}

void TokenStore::forget_queued_revocations(std::span<const TokenId> ids) {
    impl_->write([&](Txn& txn) {
        for (const auto& id : ids) {
            txn.erase(impl_->tables.meta, revocation_key(id));
        }
    });
}

} // namespace apitoken::store
