#include "fleet/change_follower.hpp"

#include "fleet/fleet_schema.hpp"
#include "fleet/pg_connection.hpp"
#include "fleet/record_wire.hpp"

#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

namespace apitoken::fleet {
namespace {

using namespace std::chrono_literals;

// Changes read per query: bounds the memory of a long catch-up.
constexpr int kPageSize = 200; // at most 200 × 64 KiB in memory
constexpr auto kFirstRetry = 1s;
// The least time between two LISTEN connections: a server or pooler that
// closes them at once (or refuses one) costs a connect every 5 s, not a
// busy loop; the poll covers what is announced meanwhile.
constexpr auto kListenPause = 5s;
// The longest a statement of the follower may take (a snapshot of a large
// fleet included) before the connection counts as lost.
constexpr auto kStatementTimeout = 60s;

UniqueFd make_eventfd() {
    const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "cannot create an eventfd");
    }
    return UniqueFd(fd);
}

void signal_fd(int fd) {
    const std::uint64_t one = 1;
    static_cast<void>(write(fd, &one, sizeof one));
}

void drain_fd(int fd) {
    std::uint64_t count = 0;
    static_cast<void>(read(fd, &count, sizeof count));
}

std::uint64_t to_u64(const std::string& text) {
    return text.empty() ? 0 : std::stoull(text);
}

// The hosts column (array_to_json), which replicas obey: the database
// checks it against the writer's role, not the copy inside the record.
std::optional<std::vector<std::string>> hosts_of(const std::string& json_text) {
    try {
        const auto parsed = nlohmann::json::parse(json_text);
        if (parsed.is_null()) {
            return std::vector<std::string>{};
        }
        return parsed.get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

// One row of the change log or of the tokens table as a store change.
void add_row(ChangeBatch& batch, const std::string& id_hex, const std::string& record_text,
             const std::string& hosts_json, std::uint64_t version) {
    const auto id = store::TokenId::from_hex(id_hex);
    if (!id) {
        ++batch.undecodable;
        return;
    }
    if (record_text.empty()) {
        batch.changes.push_back({*id, std::nullopt, version});
        return;
    }
    auto record = record_from_wire(*id, record_text);
    auto hosts = hosts_of(hosts_json);
    if (!record || !hosts) {
        ++batch.undecodable;
        return;
    }
    record->hosts = std::move(*hosts);
    batch.changes.push_back({*id, std::move(record), version});
}

} // namespace

void add_usage(UsageDeltas& into, const store::FleetUsage& use) {
    auto& sum = into[use.id];
    sum.id = use.id;
    sum.add(use);
}

void merge_usage(UsageDeltas& into, const UsageDeltas& delta) {
    for (const auto& [id, use] : delta) {
        add_usage(into, use);
    }
}

ChangeFollower::ChangeFollower(FollowerSettings settings, std::optional<std::uint64_t> start,
                               std::string fleet_id, std::vector<store::TokenRecord> upload)
    : settings_(std::move(settings)), news_fd_(make_eventfd()), kick_fd_(make_eventfd()),
      stop_fd_(make_eventfd()), upload_(std::move(upload)), position_(start),
      fleet_id_(std::move(fleet_id)) {
    thread_ = std::thread([this] { run(); });
}

ChangeFollower::~ChangeFollower() {
    {
        const std::scoped_lock lock(mutex_);
        stopping_ = true;
    }
    kick();
    signal_fd(stop_fd_.get());
    thread_.join();
}

FollowerNews ChangeFollower::take_news() {
    drain_fd(news_fd_.get());
    const std::scoped_lock lock(mutex_);
    return std::exchange(news_, FollowerNews{});
}

void ChangeFollower::listener_lost() {
    {
        const std::scoped_lock lock(mutex_);
        listen_again_ = true;
    }
    kick();
}

bool ChangeFollower::take_listen_again() {
    const std::scoped_lock lock(mutex_);
    return std::exchange(listen_again_, false);
}

void ChangeFollower::send_revocations(std::vector<store::TokenId> ids) {
    {
        const std::scoped_lock lock(mutex_);
        to_revoke_ = std::move(ids);
    }
    kick();
}

void ChangeFollower::send_usage(const UsageDeltas& deltas) {
    {
        const std::scoped_lock lock(mutex_);
        merge_usage(usage_to_send_, deltas);
    }
    kick();
}

// Not at once: at the next poll, so that a replica that keeps failing to
// take a batch (a full disk) costs one try per poll interval.
void ChangeFollower::restart_from(std::optional<std::uint64_t> seq) {
    const std::scoped_lock lock(mutex_);
    restart_ = seq;
}

void ChangeFollower::post(const std::function<void(FollowerNews&)>& add) {
    {
        const std::scoped_lock lock(mutex_);
        add(news_);
    }
    signal_fd(news_fd_.get());
}

void ChangeFollower::kick() const {
    signal_fd(kick_fd_.get());
}

void ChangeFollower::wait_kick(std::chrono::milliseconds timeout) const {
    pollfd fd{kick_fd_.get(), POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(timeout.count())) > 0) {
        drain_fd(kick_fd_.get());
    }
}

// One connection's life: connect, check the schema, LISTEN, then catch up
// and wait, until the connection fails.
class ChangeFollower::Session {
public:
    // `progressed`: set once a catch-up went through (a session that fails
    // before is retried with a back-off, not at once).
    Session(ChangeFollower& owner, PgConnection& pg, bool& progressed)
        : owner_(owner), pg_(pg), progressed_(progressed) {}

    void run() {
        // A loss the loop reported before this session is this session's
        // first LISTEN.
        static_cast<void>(owner_.take_listen_again());
        listen();
        for (;;) {
            if (owner_.should_stop_or_restart()) {
                return;
            }
            if (owner_.take_listen_again()) {
                listen_due_ =
                    std::max(std::chrono::steady_clock::now(), listened_at_ + kListenPause);
            }
            if (listen_due_ && *listen_due_ <= std::chrono::steady_clock::now()) {
                listen();
            }
            upload();
            send_revocations();
            catch_up();
            send_usage();
            fetch_usage();
            progressed_ = true;
            owner_.post([](FollowerNews& news) { news.heard = true; });
            wait();
        }
    }

private:
    // A connection of its own for LISTEN, handed to the loop, which
    // watches it. Opened before the catch-up that follows, so that no
    // change falls between the two. One that cannot be opened (a
    // connection limit, say) is tried again after a pause; meanwhile the
    // poll alone brings changes, and the session, whose queries work,
    // goes on.
    void listen() {
        listen_due_.reset();
        if (!owner_.settings_.listen) {
            return;
        }
        listened_at_ = std::chrono::steady_clock::now();
        std::string problem;
        try {
            auto listener = std::make_unique<PgConnection>(
                owner_.settings_.conninfo, kStatementTimeout, owner_.stop_fd_.get());
            listener->exec(std::string("LISTEN ") + kChangeChannel);
            owner_.post([&](FollowerNews& news) {
                news.listener = std::move(listener);
                news.listen_problem = "";
            });
            return;
        } catch (const PgError& error) {
            problem = error.what();
        }
        listen_due_ = listened_at_ + kListenPause;
        owner_.post([&](FollowerNews& news) { news.listen_problem = problem; });
    }

    // A store joining the fleet: its tokens go to the database (one
    // transaction) before the first snapshot replaces the replica.
    void upload() {
        if (owner_.upload_.empty()) {
            return;
        }
        in_transaction(pg_, "BEGIN", [&] {
            for (const auto& record : owner_.upload_) {
                pg_.exec("SELECT apitoken_fleet.put_token($1, $2, $3, $4, $5, -1)",
                         {record.id.hex(), record.user, hosts_literal(record.hosts),
                          record_to_wire(record), owner_.settings_.host_name});
            }
        });
        owner_.upload_.clear();
    }

    // Each in a transaction of its own: one the database refuses (a host
    // role revoking what is not valid on it) stays queued, shown in the
    // state, and holds neither the others nor the catch-up.
    void send_revocations() {
        std::vector<store::TokenId> ids;
        {
            const std::scoped_lock lock(owner_.mutex_);
            ids = owner_.to_revoke_;
        }
        std::vector<store::TokenId> sent;
        std::string refused;
        for (const auto& id : ids) {
            try {
                pg_.exec("SELECT apitoken_fleet.delete_token($1, $2)",
                         {id.hex(), owner_.settings_.host_name});
                sent.push_back(id);
            } catch (const PgError& error) {
                if (error.lost()) {
                    throw;
                }
                refused = "a queued revocation of " + id.hex() + " was refused: " + error.what();
            }
        }
        {
            const std::scoped_lock lock(owner_.mutex_);
            std::erase_if(owner_.to_revoke_, [&](const store::TokenId& id) {
                return std::find(sent.begin(), sent.end(), id) != sent.end();
            });
        }
        if (!sent.empty() || !refused.empty()) {
            owner_.post([&](FollowerNews& news) {
                news.revoked.insert(news.revoked.end(), sent.begin(), sent.end());
                news.revocation_problem = refused;
            });
        }
    }

    // One statement for all of this host's uses since the last flush; put
    // back (to be sent with the next) when it fails.
    void send_usage() {
        UsageDeltas deltas;
        {
            const std::scoped_lock lock(owner_.mutex_);
            deltas.swap(owner_.usage_to_send_);
        }
        if (deltas.empty()) {
            return;
        }
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& [id, use] : deltas) {
            rows.push_back({{"id", id.hex()},
                            {"count", use.use_count},
                            {"last_used", use.last_used.time_since_epoch().count()},
                            {"service", use.service},
                            {"rhost", use.rhost}});
        }
        try {
            pg_.exec("SELECT apitoken_fleet.record_usage($1, $2::jsonb)",
                     {owner_.settings_.host_name, rows.dump()});
        } catch (const PgError& error) {
            // Lost: sent by the next session. Refused: statistics are worth
            // less than the replica's catch-up; dropped (as delivered).
            if (error.lost()) {
                const std::scoped_lock lock(owner_.mutex_);
                merge_usage(owner_.usage_to_send_, deltas);
                throw;
            }
        }
        owner_.post([&](FollowerNews& news) { merge_usage(news.usage_delivered, deltas); });
    }

    // The fleet-wide sums of the tokens used since the last look (with an
    // overlap, for transactions that committed late; the sums are totals,
    // so reading one twice changes nothing).
    void fetch_usage() {
        const auto now = pg_.exec("SELECT now()::text");
        const auto rows = pg_.exec(
            "SELECT token_id, sum(use_count)::text, max(last_used)::text, "
            "(array_agg(host ORDER BY last_used DESC))[1], "
            "(array_agg(last_service ORDER BY last_used DESC))[1], "
            "(array_agg(last_rhost ORDER BY last_used DESC))[1] FROM apitoken_fleet.usage "
            "WHERE token_id IN (SELECT token_id FROM apitoken_fleet.usage WHERE updated_at > "
            "$1::timestamptz - interval '10 seconds') GROUP BY token_id",
            {usage_since_});
        usage_since_ = PgConnection::value(now, 0, 0);
        std::vector<store::FleetUsage> usage;
        for (int row = 0; row < PQntuples(rows.get()); ++row) {
            const auto id = store::TokenId::from_hex(PgConnection::value(rows, row, 0));
            if (!id) {
                continue;
            }
            usage.push_back(
                {.id = *id,
                 .use_count = to_u64(PgConnection::value(rows, row, 1)),
                 .last_used = store::TimePoint{std::chrono::seconds{
                     static_cast<std::int64_t>(to_u64(PgConnection::value(rows, row, 2)))}},
                 .host = PgConnection::value(rows, row, 3),
                 .service = PgConnection::value(rows, row, 4),
                 .rhost = PgConnection::value(rows, row, 5)});
        }
        if (!usage.empty()) {
            owner_.post([&](FollowerNews& news) {
                news.usage.insert(news.usage.end(), usage.begin(), usage.end());
            });
        }
    }

    // A snapshot when the replica is new, when its place in the log was
    // pruned, when the log is behind it (a restored or failed-over
    // database) or when the database is another one; then the log from
    // where the replica is, page by page.
    void catch_up() {
        if (needs_snapshot()) {
            snapshot();
        }
        auto& position = owner_.position_;
        for (;;) {
            // A record over the size the schema allows is left out unread.
            const auto rows = pg_.exec(
                "SELECT seq, token_id, CASE WHEN record IS NULL OR octet_length(record) > "
                "65536 THEN NULL ELSE '\\x' || encode(record, 'hex') END, "
                "array_to_json(hosts)::text, op FROM apitoken_fleet.changes WHERE seq > $1 "
                "ORDER BY seq LIMIT " +
                    std::to_string(kPageSize),
                {std::to_string(*position)});
            // A prune between two reads would hide what it deleted.
            if (needs_snapshot()) {
                snapshot();
                continue;
            }
            const int count = PQntuples(rows.get());
            if (count == 0) {
                return;
            }
            ChangeBatch batch;
            for (int row = 0; row < count; ++row) {
                const std::string record = PgConnection::value(rows, row, 2);
                if (record.empty() && PgConnection::value(rows, row, 4) == "upsert") {
                    ++batch.undecodable;
                    continue;
                }
                add_row(batch, PgConnection::value(rows, row, 1), record,
                        PgConnection::value(rows, row, 3),
                        to_u64(PgConnection::value(rows, row, 0)));
            }
            batch.seq = to_u64(PgConnection::value(rows, count - 1, 0));
            deliver(std::move(batch));
            if (count < kPageSize) {
                return;
            }
        }
    }

    // A snapshot when the replica is new, when its place in the log was
    // pruned, when the log is behind it (a restored or failed-over
    // database) or when the database is another one.
    bool needs_snapshot() {
        const auto state = pg_.exec(
            "SELECT coalesce((SELECT value FROM apitoken_fleet.meta WHERE key = "
            "'pruned_through'), '0'), (SELECT coalesce(max(seq), 0) FROM "
            "apitoken_fleet.changes)::text, coalesce((SELECT value FROM apitoken_fleet.meta "
            "WHERE key = 'fleet_id'), '')");
        const std::uint64_t pruned = to_u64(PgConnection::value(state, 0, 0));
        const std::uint64_t end = to_u64(PgConnection::value(state, 0, 1));
        fleet_id_now_ = PgConnection::value(state, 0, 2);
        const auto& position = owner_.position_;
        reset_ = position && (*position > end || fleet_id_now_ != owner_.fleet_id_);
        return !position || *position < pruned || reset_;
    }

    // The whole replica as of one moment: the tokens and the log's end,
    // read in one REPEATABLE READ transaction.
    void snapshot() {
        ChangeBatch batch;
        batch.whole = true;
        batch.fleet_id = fleet_id_now_;
        batch.reset = reset_;
        in_transaction(pg_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&] {
            const auto end = pg_.exec("SELECT coalesce(max(seq), 0) FROM apitoken_fleet.changes");
            batch.seq = to_u64(PgConnection::value(end, 0, 0));
            const auto rows =
                pg_.exec("SELECT id, '\\x' || encode(record, 'hex'), array_to_json(hosts)::text, "
                         "version FROM apitoken_fleet.tokens WHERE octet_length(record) <= 65536 "
                         "ORDER BY id");
            const int count = PQntuples(rows.get());
            batch.changes.reserve(static_cast<std::size_t>(count));
            for (int row = 0; row < count; ++row) {
                add_row(batch, PgConnection::value(rows, row, 0), PgConnection::value(rows, row, 1),
                        PgConnection::value(rows, row, 2),
                        to_u64(PgConnection::value(rows, row, 3)));
            }
        });
        owner_.fleet_id_ = fleet_id_now_;
        deliver(std::move(batch));
    }

    void deliver(ChangeBatch batch) {
        batch.from = owner_.position_.value_or(0);
        owner_.position_ = batch.seq;
        owner_.post([&](FollowerNews& news) { news.batches.push_back(std::move(batch)); });
    }

    // Until a kick from the loop (a notification it heard, or work for
    // the database), the poll interval, or the connection's end.
    // The polls keep a fixed rate (not "interval after the last one's
    // work"), so that a lost notification is caught within the interval.
    void wait() {
        std::array<pollfd, 2> fds{pollfd{pg_.socket(), POLLIN, 0},
                                  pollfd{owner_.kick_fd_.get(), POLLIN, 0}};
        const auto now = std::chrono::steady_clock::now();
        if (next_poll_ <= now) {
            next_poll_ = std::max(next_poll_ + owner_.settings_.poll_interval, now);
        }
        const auto until = listen_due_ ? std::min(next_poll_, *listen_due_) : next_poll_;
        const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(
            std::max(until - now, std::chrono::steady_clock::duration::zero()));
        if (poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) {
            return;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            drain_fd(owner_.kick_fd_.get());
        }
        if (fds[0].revents != 0) {
            static_cast<void>(pg_.notifications()); // throws when the connection is gone
        }
    }

    ChangeFollower& owner_;
    PgConnection& pg_;
    bool& progressed_;
    std::string fleet_id_now_; // as the last look at the database said
    bool reset_ = false;       // and whether the replica's versions are void
    std::string usage_since_ = "-infinity";
    std::chrono::steady_clock::time_point next_poll_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point listened_at_{}; // the last LISTEN connection tried
    std::optional<std::chrono::steady_clock::time_point> listen_due_; // the next one to try
};

bool ChangeFollower::should_stop_or_restart() {
    const std::scoped_lock lock(mutex_);
    if (restart_) {
        position_ = *restart_;
        if (!position_) {
            fleet_id_.clear();
        }
        restart_.reset();
    }
    return stopping_;
}

void ChangeFollower::run() {
    auto retry = kFirstRetry;
    while (!should_stop_or_restart()) {
        bool progressed = false;
        try {
            PgConnection pg(settings_.conninfo, kStatementTimeout, stop_fd_.get());
            ensure_fleet_schema(pg);
            post([](FollowerNews& news) {
                news.connected = true;
                news.problem.clear();
            });
            Session(*this, pg, progressed).run();
            return; // stopping
        } catch (const std::exception& error) {
            // After a session that worked, a new one at once (the server
            // dropped us), and the daemon hears of it only if that fails
            // too: "unreachable" makes its writes fail without trying, so a
            // dropped connection the next one replaces must not say so.
            if (progressed) {
                retry = kFirstRetry;
                continue;
            }
            const std::string problem = error.what();
            post([&](FollowerNews& news) {
                news.connected = false;
                news.problem = problem;
            });
            // Else (unreachable, or refusing what we ask) with a back-off up
            // to the poll interval, so that a lasting fault costs neither
            // side a busy loop.
            wait_kick(std::chrono::duration_cast<std::chrono::milliseconds>(retry));
            retry = std::min<std::chrono::seconds>(retry * 2, settings_.poll_interval);
        }
    }
}

} // namespace apitoken::fleet
