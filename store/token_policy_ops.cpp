// TokenStore's token policy operations: update, rotation, the expiry
// warning mark, bulk revocation and the purge of rotated tokens.
#include "store/name_rules.hpp"
#include "store/store_error.hpp"
#include "store/store_impl.hpp"
#include "store/token_store.hpp"

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::store {
namespace {

using lmdb::Txn;

void apply(const TokenUpdate& update, TokenRecord& record) {
    if (update.name) {
        record.name = *update.name;
    }
    if (update.description) {
        record.description = *update.description;
    }
    if (update.services) {
        record.services = *update.services;
    }
    if (update.sources) {
        record.sources = *update.sources;
    }
    if (update.hosts) {
        record.hosts = *update.hosts;
    }
    if (update.expires && *update.expires != record.expires) {
        record.expires = *update.expires;
        // The warning was about the old expiry; the new one gets its own.
        record.expiry_warned = false;
    }
}

// Only what the update changes is checked: a record stored under an older,
// looser rule (a name from before the printable-text rule) can still have
// its description changed.
void validate(const TokenUpdate& update) {
    if (update.name) {
        require(token_name_problem(*update.name));
    }
    if (update.description) {
        require(description_problem(*update.description));
    }
    if (update.services) {
        require(services_problem(*update.services));
    }
    if (update.sources) {
        require(sources_problem(*update.sources));
    }
    if (update.hosts) {
        require(hosts_problem(*update.hosts));
    }
}

// What a successor must say for rotate() to store it.
void check_successor(std::string_view user, const TokenId& id, const TokenRecord& successor) {
    if (successor.id == id) {
        throw StoreError(StoreErrc::DuplicateId,
                         "the token replacing token " + id.hex() + " needs an id of its own");
    }
    if (successor.user != user) {
        throw StoreError(StoreErrc::InvalidArgument, "the token replacing token " + id.hex() +
                                                         " must belong to user " +
                                                         std::string(user));
    }
    if (successor.rotated_from != id) {
        throw StoreError(StoreErrc::InvalidArgument,
                         "the token replacing token " + id.hex() + " must name it as rotated from");
    }
    if (successor.rotated()) {
        throw StoreError(StoreErrc::InvalidArgument,
                         "the token replacing token " + id.hex() + " cannot be rotated itself");
    }
}

} // namespace

TokenRecord TokenStore::update(std::string_view user, const TokenId& id, const TokenUpdate& update,
                               std::optional<uid_t> uid) {
    validate(update);
    return impl_->published_write([&](Txn& txn) {
        const TokenRecord before = impl_->owned(txn, user, id, uid);
        TokenRecord after = before;
        apply(update, after);
        if (update.name) {
            impl_->check_account_rules(txn, after, false);
        }
        impl_->replace(txn, before, after);
        return after;
    });
}

// The old token becomes rotated (or goes) before the successor is inserted,
// so that the successor may take its name and its place under the maximum;
// the transaction makes the two one step.
void TokenStore::rotate(std::string_view user, const TokenId& id, const TokenRecord& successor,
                        std::optional<TimePoint> grace_until, std::optional<uid_t> uid) {
    check_successor(user, id, successor);
    impl_->published_write([&](Txn& txn) {
        const TokenRecord old = impl_->owned(txn, user, id, uid);
        if (old.rotated()) {
            throw StoreError(StoreErrc::InvalidArgument,
                             "token " + id.hex() + " was rotated already (to " +
                                 old.rotated_to->hex() +
                                 ") and is in its grace period; rotate its successor instead");
        }
        if (grace_until) {
            TokenRecord rotated = old;
            rotated.rotated_to = successor.id;
            rotated.grace_until = grace_until;
            impl_->check_account_rules(txn, rotated, true);
            impl_->replace(txn, old, rotated);
        } else {
            impl_->remove(txn, old);
        }
        impl_->insert(txn, successor);
    });
}

void TokenStore::set_expiry_warned(const TokenId& id) {
    impl_->write([&](Txn& txn) {
        const auto before = impl_->read(txn, id);
        if (!before || before->expiry_warned) {
            return;
        }
        TokenRecord after = *before;
        after.expiry_warned = true;
        impl_->replace(txn, *before, after);
    });
}

std::vector<TokenRecord> TokenStore::expiring_by(TimePoint until) const {
    const Txn txn(impl_->env.get(), Txn::Mode::Read);
    return impl_->due(txn, impl_->tables.by_expiry, until, &TokenRecord::expires).records;
}

std::vector<TokenId> TokenStore::revoke_many(std::span<const TokenRecord> tokens) {
    return impl_->published_write([&](Txn& txn) {
        std::vector<TokenId> revoked;
        for (const auto& chosen : tokens) {
            const auto record = impl_->read(txn, chosen.id);
            // Only the token that was chosen: not one made again since.
            if (record && record->user == chosen.user && record->uid == chosen.uid &&
                record->created == chosen.created) {
                impl_->remove(txn, *record);
                revoked.push_back(chosen.id);
            }
        }
        return revoked;
    });
}

std::size_t TokenStore::purge_rotated(TimePoint now) {
    return impl_->published_write([&](Txn& txn) {
        const MDB_dbi index = impl_->tables.by_grace;
        return impl_->purge(txn, index, impl_->due(txn, index, now, &TokenRecord::grace_until));
    });
}

} // namespace apitoken::store
