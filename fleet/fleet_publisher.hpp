#pragma once

#include "fleet/pg_connection.hpp"
#include "store/change_publisher.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace apitoken::fleet {

// The store's writes in fleet mode (store/change_publisher.hpp): each
// write's changes in one PostgreSQL transaction, through the schema's
// functions, before the store commits them. Runs on the daemon's loop
// thread, so it blocks it for a write's round trips: writes are rare admin
// actions, and while the follower knows the database is unreachable a
// write fails at once instead of waiting for a connect timeout.
class FleetPublisher final : public store::ChangePublisher {
public:
    // The longest a write may hold the loop (connect included).
    static constexpr std::chrono::seconds kWriteTimeout{3};

    FleetPublisher(std::string conninfo, std::string host_name)
        : conninfo_(std::move(conninfo)), host_name_(std::move(host_name)) {}

    bool publish(std::span<store::StoreChange> changes) override;

    // What the follower last saw: false makes publish() answer
    // "unreachable" without trying.
    void set_reachable(bool reachable) noexcept { reachable_ = reachable; }

private:
    void write(std::span<store::StoreChange> changes);

    std::string conninfo_;
    std::string host_name_;
    std::optional<PgConnection> pg_;
    std::atomic<bool> reachable_ = true;
};

} // namespace apitoken::fleet
