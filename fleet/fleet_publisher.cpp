#include "fleet/fleet_publisher.hpp"

#include "fleet/record_wire.hpp"
#include "store/store_error.hpp"

namespace apitoken::fleet {

bool FleetPublisher::publish(std::span<store::StoreChange> changes) {
    if (!reachable_) {
        return false;
    }
    // One bound for the whole write: the loop waits on it.
    const auto deadline = std::chrono::steady_clock::now() + kWriteTimeout;
    // A connection kept from an earlier write may have died since (the
    // server restarted): one more try on a fresh one.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool fresh = !pg_ || !pg_->usable();
        try {
            if (fresh) {
                pg_.emplace(conninfo_, kWriteTimeout);
            }
            pg_->set_deadline(deadline);
            write(changes);
            return true;
        } catch (const PgError& error) {
            if (!error.lost()) {
                throw store::StoreError(store::StoreErrc::FleetRefused,
                                        std::string("the fleet database refused the change: ") +
                                            error.what());
            }
            pg_.reset();
            if (fresh || std::chrono::steady_clock::now() >= deadline) {
                // Until the follower hears from the database again, writes
                // fail at once instead of waiting here.
                reachable_ = false;
                return false;
            }
        }
    }
    return false;
}

// The versions are the changes' once the transaction has committed (a
// retry after a lost connection must not send a rolled-back one).
void FleetPublisher::write(std::span<store::StoreChange> changes) {
    std::vector<std::optional<std::uint64_t>> versions(changes.size());
    in_transaction(*pg_, "BEGIN", [&] {
        for (std::size_t i = 0; i < changes.size(); ++i) {
            const auto& change = changes[i];
            if (change.deletion()) {
                pg_->exec("SELECT apitoken_fleet.delete_token($1, $2)",
                          {change.id.hex(), host_name_});
                continue;
            }
            const auto& record = *change.record;
            const PgParam expected =
                change.version ? PgParam(std::to_string(*change.version)) : std::nullopt;
            const auto version =
                pg_->exec("SELECT apitoken_fleet.put_token($1, $2, $3, $4, $5, $6)",
                          {change.id.hex(), record.user, hosts_literal(record.hosts),
                           record_to_wire(record), host_name_, expected});
            versions[i] = std::stoull(PgConnection::value(version, 0, 0));
        }
    });
    for (std::size_t i = 0; i < changes.size(); ++i) {
        if (versions[i]) {
            changes[i].version = versions[i];
        }
    }
}

} // namespace apitoken::fleet
