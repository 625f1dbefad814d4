#pragma once

#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "daemon/fleet_listener.hpp"
#include "daemon/replica_gate.hpp"
#include "fleet/change_follower.hpp"
#include "fleet/fleet_publisher.hpp"
#include "ipc/dictionary.hpp"
#include "ipc/sd_handles.hpp"
#include "store/token_store.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

struct sd_event;

namespace apitoken::daemon {

// Fleet mode on the daemon's loop thread: the store publishes its writes
// to the fleet database (FleetPublisher), the follower's thread brings the
// fleet's changes when the LISTEN connection (watched here, in sd-event)
// hears of them and at every poll interval; they land here (on the loop,
// the store's thread) and go into the replica, filtered by this host's
// scope; revocations queued
// while the database was unreachable are handed to the follower to send.
// It is the ReplicaGate that makes token logins fail closed once the host
// has been cut off for longer than fleet_offline_grace.
class FleetReplica final : public ReplicaGate {
public:
    // `ready` runs once, when the replica may be used (synced, or within
    // the grace period of its last sync).
    FleetReplica(const Config& config, store::TokenStore& store, const AuditLog& log,
                 sd_event* event, std::function<void()> ready);
    FleetReplica(const FleetReplica&) = delete;
    FleetReplica& operator=(const FleetReplica&) = delete;
    FleetReplica(FleetReplica&&) = delete;
    FleetReplica& operator=(FleetReplica&&) = delete;
    ~FleetReplica() override;

    [[nodiscard]] std::optional<std::string> refusal(store::TimePoint now) const override;
    // The fleet state for `apitokenctl status` (the FleetState property).
    [[nodiscard]] ipc::Dictionary state() const;
    // Every poll interval: queued revocations to the follower.
    void tick();
    // This host's uses (once on disk), summed until flush_usage().
    void count_uses(std::span<const store::UsageEvent> uses);
    // Every fleet_usage_flush_interval: the sums join the store's queue of
    // uses the database does not have yet, and that queue goes to the
    // follower (unless an earlier one is still on its way).
    void flush_usage();
    // At shutdown: the sums join the queue, sent after the next start.
    void save_usage();
    [[nodiscard]] const std::string& host_name() const noexcept { return host_name_; }

private:
    static int on_news(sd_event_source* source, int fd, std::uint32_t events, void* userdata);
    void take_news();
    void listen_on(std::unique_ptr<fleet::PgConnection> connection,
                   const std::optional<std::string>& problem);
    // False when the replica could not take it (the follower starts again).
    bool apply(fleet::ChangeBatch& batch);
    void connection_changed(bool connected, const std::string& problem);
    void heard(store::TimePoint now);
    void became_ready();
    [[nodiscard]] std::vector<store::TokenRecord> joining_tokens() const;

    const Config& config_;
    store::TokenStore& store_;
    const AuditLog& log_;
    std::string host_name_;
    fleet::FleetPublisher publisher_;
    sd_event* event_;
    std::unique_ptr<fleet::ChangeFollower> follower_;
    std::unique_ptr<FleetListener> listener_; // calls follower_: goes first
    ipc::EventSourcePtr source_;
    std::function<void()> ready_;
    bool connected_ = false;
    std::string problem_;
    std::string revocation_problem_;
    std::string listen_problem_;
    std::optional<store::TimePoint> offline_since_;
    std::optional<store::TimePoint> last_sync_;
    std::uint64_t seq_ = 0;
    fleet::UsageDeltas local_uses_;
    bool usage_on_its_way_ = false; // the follower has the queue; it says when delivered
    mutable bool fail_closed_logged_ = false;
};

} // namespace apitoken::daemon
