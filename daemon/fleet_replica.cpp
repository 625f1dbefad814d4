#include "daemon/fleet_replica.hpp"

#include "daemon/use_policy.hpp"
#include "daemon/wall_clock.hpp"
#include "ipc/bus_api.hpp"
#include "store/store_error.hpp"

#include <systemd/sd-event.h>

#include <stdexcept>
#include <utility>

namespace apitoken::daemon {
namespace {

std::vector<store::FleetUsage> as_fleet_usage(const fleet::UsageDeltas& deltas) {
    std::vector<store::FleetUsage> uses;
    uses.reserve(deltas.size());
    for (const auto& [id, use] : deltas) {
        uses.push_back(use);
        uses.back().id = id; // the key says whose they are
    }
    return uses;
}

fleet::UsageDeltas as_deltas(const std::vector<store::FleetUsage>& uses) {
    fleet::UsageDeltas deltas;
    for (const auto& use : uses) {
        deltas[use.id] = use;
    }
    return deltas;
}

} // namespace

FleetReplica::FleetReplica(const Config& config, store::TokenStore& store, const AuditLog& log,
                           sd_event* event, std::function<void()> ready)
    : config_(config), store_(store), log_(log), host_name_(fleet_host_name(config)),
      publisher_(config.fleet_database, host_name_), event_(event), ready_(std::move(ready)) {
    if (host_name_.empty()) {
        throw std::runtime_error("fleet mode needs a host name: set fleet_host_name");
    }
    const auto position = store_.replica_position();
    if (position) {
        seq_ = position->seq;
        last_sync_ = position->synced_at;
    }
    store_.set_publisher(&publisher_);
    follower_ = std::make_unique<fleet::ChangeFollower>(
        fleet::FollowerSettings{config.fleet_database, host_name_, config.fleet_poll_interval,
                                config.fleet_listen},
        position ? std::optional(position->seq) : std::nullopt,
        position ? position->fleet_id : std::string(),
        position ? std::vector<store::TokenRecord>{} : joining_tokens());
    source_ = ipc::watch_readable(event, follower_->wake_fd(), on_news, this,
                                  "cannot watch the fleet follower");
    // A replica synced within the grace period serves at once, also while
    // the database is down (that is what the grace is for).
    if (!refusal(now_seconds()) && last_sync_) {
        became_ready();
    }
}

FleetReplica::~FleetReplica() {
    store_.set_publisher(nullptr);
}

// A store that was a single host's until now: its tokens (not rotated
// away, not orphans' alone: all of them, the database decides) join the
// fleet as they are.
std::vector<store::TokenRecord> FleetReplica::joining_tokens() const {
    auto records = store_.list_all();
    if (!records.empty()) {
        log_.info("fleet: this host joins the fleet with " + std::to_string(records.size()) +
                  " token(s) of its own; they go to the fleet database before the first sync");
    }
    return records;
}

// Only the time since the last completed catch-up counts: an open
// connection to a server that no longer answers is no sync.
std::optional<std::string> FleetReplica::refusal(store::TimePoint now) const {
    if (!last_sync_) {
        return "fleet mode: this host's replica was never synced with the fleet database";
    }
    if (now - *last_sync_ <= config_.fleet_offline_grace) {
        return std::nullopt;
    }
    const std::string why = "fleet mode: the fleet database has been unreachable for longer "
                            "than fleet_offline_grace (last synced at " +
                            std::to_string(unix_seconds(last_sync_)) + "); failing closed";
    if (!fail_closed_logged_) {
        fail_closed_logged_ = true;
        log_.error(why + (problem_.empty() ? "" : ": " + problem_));
    }
    return why;
}

ipc::Dictionary FleetReplica::state() const {
    const auto now = now_seconds();
    return {
        {"mode", std::string("fleet")},
        {"host_name", host_name_},
        {"connected", connected_},
        {"problem", problem_.empty() ? revocation_problem_ : problem_},
        {"last_sync", unix_seconds(last_sync_)},
        {"offline_since", unix_seconds(offline_since_)},
        {"lag", last_sync_ ? (now - *last_sync_).count() : std::int64_t{-1}},
        {"replica_seq", seq_},
        {"queued_revocations", static_cast<std::uint64_t>(store_.queued_revocations().size())},
        {"failing_closed", refusal(now).has_value()},
    };
}

void FleetReplica::tick() {
    if (auto queued = store_.queued_revocations(); !queued.empty() && connected_) {
        follower_->send_revocations(std::move(queued));
    }
}

void FleetReplica::count_uses(std::span<const store::UsageEvent> uses) {
    for (const auto& use : uses) {
        fleet::add_usage(local_uses_, {.id = use.id,
                                       .use_count = 1,
                                       .last_used = use.when,
                                       .service = use.service,
                                       .rhost = use.rhost});
    }
}

void FleetReplica::save_usage() {
    if (!local_uses_.empty()) {
        store_.queue_fleet_usage(as_fleet_usage(local_uses_));
        local_uses_.clear();
    }
}

// One batch on its way at a time: what the follower holds is in the queue
// too, and leaves it only once delivered, so nothing is sent twice.
void FleetReplica::flush_usage() {
    try {
        save_usage();
        if (usage_on_its_way_) {
            return;
        }
        const auto queued = store_.queued_fleet_usage();
        if (!queued.empty()) {
            follower_->send_usage(as_deltas(queued));
            usage_on_its_way_ = true;
        }
    } catch (const store::StoreError& error) {
        log_.error(std::string("fleet: cannot keep this host's usage statistics for the fleet "
                               "database (tried again at the next flush): ") +
                   error.what());
    }
}

int FleetReplica::on_news(sd_event_source* /*source*/, int /*fd*/, std::uint32_t /*events*/,
                          void* userdata) {
    auto& self = *static_cast<FleetReplica*>(userdata);
    try {
        self.take_news();
    } catch (const std::exception& error) {
        self.log_.error(std::string("fleet: ") + error.what());
        self.follower_->restart_from(self.seq_);
    } catch (...) {
        self.follower_->restart_from(self.seq_);
    }
    return 0;
}

void FleetReplica::take_news() {
    auto news = follower_->take_news();
    if (news.connected) {
        connection_changed(*news.connected, news.problem);
    }
    // In order, each where the last one ended; after a failure (or batches
    // read before a restart) nothing more, and no sync is counted.
    bool intact = true;
    for (auto& batch : news.batches) {
        if (!batch.whole && batch.from != seq_) {
            intact = false;
            continue;
        }
        if (!apply(batch)) {
            intact = false;
            break;
        }
    }
    if (!news.revocation_problem.empty() && news.revocation_problem != revocation_problem_) {
        log_.error("fleet: " + news.revocation_problem);
    }
    if (!news.revocation_problem.empty() || !news.revoked.empty()) {
        revocation_problem_ = news.revocation_problem;
    }
    if (!news.revoked.empty()) {
        store_.forget_queued_revocations(news.revoked);
        log_.info("fleet: " + std::to_string(news.revoked.size()) +
                  " revocation(s) queued while the fleet database was unreachable are in it now");
    }
    if (!news.usage.empty()) {
        store_.put_fleet_usage(news.usage);
    }
    if (!news.usage_delivered.empty()) {
        store_.forget_queued_fleet_usage(as_fleet_usage(news.usage_delivered));
        usage_on_its_way_ = false;
    }
    if (news.heard && intact) {
        heard(now_seconds());
    }
    listen_on(std::move(news.listener), news.listen_problem);
}

// A new LISTEN connection replaces the one before (gone with the
// follower's last connection). Last of the news, so that nothing else of
// them is lost when it cannot be watched; the follower then opens another
// after a pause, and the poll brings changes meanwhile.
void FleetReplica::listen_on(std::unique_ptr<fleet::PgConnection> connection,
                             const std::optional<std::string>& problem) {
    if (problem && *problem != listen_problem_) {
        listen_problem_ = *problem;
        if (!problem->empty()) {
            log_.error("fleet: cannot open the LISTEN connection (changes come with the poll "
                       "meanwhile): " +
                       *problem);
        }
    }
    if (!connection) {
        return;
    }
    listener_.reset();
    try {
        listener_ = std::make_unique<FleetListener>(
            event_, std::move(connection), [this] { follower_->catch_up_now(); },
            [this] {
                follower_->listener_lost();
                log_.info("fleet: the fleet database closed the LISTEN connection; opening "
                          "another (changes are caught up meanwhile)");
            });
    } catch (const std::exception& error) {
        follower_->listener_lost();
        log_.error(std::string("fleet: ") + error.what());
    }
}

// Only what this host may authenticate lands in its replica: a token for
// other hosts is as good as deleted here.
bool FleetReplica::apply(fleet::ChangeBatch& batch) {
    for (auto& change : batch.changes) {
        if (change.record && !host_allowed(change.record->hosts, host_name_)) {
            change.record.reset();
        }
    }
    try {
        const std::size_t refused = store_.apply_replica(batch.changes, batch.seq, now_seconds(),
                                                         batch.whole, batch.fleet_id, batch.reset);
        seq_ = batch.seq;
        if (refused + batch.undecodable > 0) {
            log_.error("fleet: " + std::to_string(refused + batch.undecodable) +
                       " record(s) from the fleet database were not valid token records and "
                       "were left out of the replica");
        }
        if (batch.whole) {
            log_.info("fleet: replica resynchronised from a snapshot of the fleet database (" +
                      std::to_string(batch.changes.size()) + " tokens, up to change " +
                      std::to_string(batch.seq) + ")");
        }
        return true;
    } catch (const store::StoreError& error) {
        log_.error(std::string("fleet: cannot apply changes to the replica (tried again at the "
                               "next poll): ") +
                   error.what());
        // A snapshot that did not land may be of another database: the
        // next try starts with one again.
        follower_->restart_from(batch.whole ? std::nullopt : std::optional(seq_));
        return false;
    }
}

void FleetReplica::connection_changed(bool connected, const std::string& problem) {
    publisher_.set_reachable(connected);
    problem_ = problem;
    if (connected == connected_ && (connected || offline_since_)) {
        return;
    }
    connected_ = connected;
    if (connected) {
        offline_since_.reset();
        fail_closed_logged_ = false;
        log_.record(AuditEvent::FleetOnline, {.result = "connected", .reason = host_name_});
        tick();
        return;
    }
    offline_since_ = now_seconds();
    log_.record(AuditEvent::FleetOffline, {.result = "offline", .reason = problem});
}

void FleetReplica::heard(store::TimePoint now) {
    last_sync_ = now;
    publisher_.set_reachable(true);
    store_.mark_replica_synced(now);
    became_ready();
}

void FleetReplica::became_ready() {
    if (ready_) {
        auto ready = std::exchange(ready_, nullptr);
        ready();
    }
}

} // namespace apitoken::daemon
