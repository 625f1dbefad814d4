#pragma once

#include "contract/unique_fd.hpp"
#include "fleet/pg_connection.hpp"
#include "store/change_publisher.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::fleet {

struct FollowerSettings {
    std::string conninfo;
    std::string host_name;
    std::chrono::seconds poll_interval{30};
    bool listen = true; // false: the poll alone (what lost notifications cost)
};

// Changes from the fleet database, in the order they were made: apply them
// in one store transaction and remember `seq`. `whole`: a snapshot, the
// whole replica (every token not in it goes).
struct ChangeBatch {
    std::vector<store::StoreChange> changes;
    std::uint64_t from = 0; // the position it follows (apply it only there)
    std::uint64_t seq = 0;
    bool whole = false;
    std::size_t undecodable = 0; // records that were no records (left out)
    std::string fleet_id{};      // the database's identity (snapshots)
    bool reset = false;          // a snapshot of another database, or one that went back
};

// This host's uses since its last flush, per token (host left empty).
using UsageDeltas = std::map<store::TokenId, store::FleetUsage>;

// Adds `use` to its token's sum in `into` (store::FleetUsage::add).
void add_usage(UsageDeltas& into, const store::FleetUsage& use);
// Adds `delta` to `into`, token by token.
void merge_usage(UsageDeltas& into, const UsageDeltas& delta);

// What happened since the loop last asked.
struct FollowerNews {
    std::vector<ChangeBatch> batches;
    std::optional<bool> connected;        // the last change of the connection's state
    std::string problem;                  // why it is not connected (with connected == false)
    bool heard = false;                   // a catch-up finished: the replica is as new as the log
    std::vector<store::TokenId> revoked;  // queued revocations now in the database
    std::vector<store::FleetUsage> usage; // fleet-wide usage of tokens used lately
    UsageDeltas usage_delivered{};        // of this host's, what the database took (or refused)
    std::string revocation_problem{};     // why the database refused a queued revocation
    // A connection that LISTENs for the change log's notifications, for the
    // loop to watch (a new one after each reconnect or listener_lost()).
    std::unique_ptr<PgConnection> listener{};
    std::optional<std::string> listen_problem{}; // why none could be opened ("" once one was)
};

// Follows the fleet database's change log: its queries run on a thread of
// their own, which catches up on each catch_up_now() (the loop calls it
// when its LISTEN connection hears of a change) and every poll interval,
// for notifications that were lost; from `start` (nullopt: a new replica,
// which starts from a snapshot, as does one whose place in the log was
// pruned). Reconnects with a back-off when the database goes away. It
// also sends the revocations queued while the database was unreachable.
// The thread opens the LISTEN connection (connecting may wait on the
// network) and hands it to the loop, which watches its socket in sd-event.
// The loop thread learns of news through wake_fd() (an eventfd) and takes
// them with take_news(); nothing of the loop ever waits on the network.
class ChangeFollower {
public:
    // `upload`: a store that joins the fleet with tokens of its own (never
    // synced before) sends them first, so that the first snapshot, which
    // replaces the replica, does not lose them.
    // `fleet_id`: the database the replica followed ("": none known).
    ChangeFollower(FollowerSettings settings, std::optional<std::uint64_t> start,
                   std::string fleet_id = {}, std::vector<store::TokenRecord> upload = {});
    ChangeFollower(const ChangeFollower&) = delete;
    ChangeFollower& operator=(const ChangeFollower&) = delete;
    ChangeFollower(ChangeFollower&&) = delete;
    ChangeFollower& operator=(ChangeFollower&&) = delete;
    ~ChangeFollower();

    [[nodiscard]] int wake_fd() const noexcept { return news_fd_.get(); }
    [[nodiscard]] FollowerNews take_news();
    // Revocations to send (those not sent yet; repeats are harmless).
    void send_revocations(std::vector<store::TokenId> ids);
    // This host's uses, to add to the fleet's in one statement.
    void send_usage(const UsageDeltas& deltas);
    // A change was announced: catch up now rather than at the next poll.
    void catch_up_now() const { kick(); }
    // The LISTEN connection handed over is gone: open another one (and
    // catch up, for what was announced meanwhile).
    void listener_lost();
    // The loop could not apply what it got: start again from `seq`
    // (nullopt: from a snapshot).
    void restart_from(std::optional<std::uint64_t> seq);

private:
    class Session;
    void run();
    // Takes a restart the loop asked for; true when the follower must stop.
    bool should_stop_or_restart();
    // Takes a request for a new LISTEN connection.
    bool take_listen_again();
    void post(const std::function<void(FollowerNews&)>& add);
    void kick() const;
    void wait_kick(std::chrono::milliseconds timeout) const;

    FollowerSettings settings_;
    UniqueFd news_fd_; // the loop waits on it
    UniqueFd kick_fd_; // the thread waits on it (and on the database's socket)
    UniqueFd stop_fd_; // readable once stopping: ends any wait on the database
    std::mutex mutex_;
    FollowerNews news_;
    std::vector<store::TokenId> to_revoke_;
    UsageDeltas usage_to_send_;
    std::vector<store::TokenRecord> upload_; // the thread's own
    std::optional<std::optional<std::uint64_t>> restart_;
    bool stopping_ = false;
    bool listen_again_ = false;
    std::optional<std::uint64_t> position_; // the thread's own
    std::string fleet_id_;                  // the thread's own
    std::thread thread_;
};

} // namespace apitoken::fleet
