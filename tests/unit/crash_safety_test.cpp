// A committed create or revoke survives a kill -9 of the writer at any moment.
//
// A child process creates and revokes tokens as fast as it can. It reports
// each operation on a pipe twice: its intent before the store call, and its
// acknowledgement after the call returned (that is, after LMDB's commit). The
// parent kills it with SIGKILL at a random moment, reopens the store and
// checks that every acknowledged operation is there, that the one in flight
// is either done or not done at all, and that nothing else appeared. Each
// round kills the child at another point, on the same state directory.
// The same for the uses of a token with a use limit (consume_use): a use
// the store counted is on disk when the call returns, and no kill lets the
// token be used more often than its limit.
#include "store/token_store.hpp"
#include "tests/support/store_fixture.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>

namespace apitoken::store {
namespace {

using testing::TempDir;

// One pipe message: an operation byte and a token id. Smaller than
// PIPE_BUF, so each write is atomic and the parent never reads half of one.
struct Report {
    char op; // 'c' / 'r': about to create / revoke; 'C' / 'R': done;
             // 'u': about to use; 'U' / 'X' / 'G': Counted / Exhausted / Gone
    TokenId::Bytes id;
};

void report(int fd, char op, const TokenId& id) {
    const Report message{op, id.bytes()};
    if (::write(fd, &message, sizeof message) != sizeof message) {
        ::_exit(3);
    }
}

// What the parent learned from the child's reports, over all rounds.
struct Ledger {
    std::set<TokenId> created;
    std::set<TokenId> revoked;
    std::set<TokenId> create_in_flight;
    std::set<TokenId> revoke_in_flight;

    void apply(const Report& report) {
        const TokenId id(report.id);
        switch (report.op) {
        case 'c': create_in_flight.insert(id); break;
        case 'C': create_in_flight.erase(id), created.insert(id); break;
        case 'r': revoke_in_flight.insert(id); break;
        case 'R': revoke_in_flight.erase(id), revoked.insert(id); break;
        default: ADD_FAILURE() << "garbled report";
        }
    }

    // An operation in flight at the kill may or may not have committed;
    // once the store is reopened we learn which, and book it.
    void settle(const TokenStore& store) {
        for (const auto& id : create_in_flight) {
            if (store.find(id)) {
                created.insert(id);
            }
        }
        for (const auto& id : revoke_in_flight) {
            if (!store.find(id)) {
                revoked.insert(id);
            }
        }
        create_in_flight.clear();
        revoke_in_flight.clear();
    }
};

[[noreturn]] void writer_child(const StoreOptions& options, int round, int report_fd) {
    try {
        TokenStore store(options);
        const auto proto = testing::make_token("crash", "proto");
        std::vector<TokenId> live;
        for (int i = 0;; ++i) {
            auto record = proto.record;
            record.id = TokenId::random();
            record.name = "r" + std::to_string(round) + "-" + std::to_string(i);
            report(report_fd, 'c', record.id);
            store.create(record);
            report(report_fd, 'C', record.id);
            live.push_back(record.id);
            if (i % 3 == 2) {
                const TokenId victim = live[live.size() / 2];
                live.erase(live.begin() + static_cast<long>(live.size() / 2));
                report(report_fd, 'r', victim);
                store.revoke("crash", victim);
                report(report_fd, 'R', victim);
            }
        }
    } catch (...) {
        ::_exit(2);
    }
}

TEST(CrashSafety, AcknowledgedCreatesAndRevokesSurviveKillMinus9) {
    TempDir dir;
    StoreOptions options = testing::options_for(dir);
    options.max_tokens_per_user = 1'000'000;
    Ledger ledger;

    for (int round = 0; round < 5; ++round) {
        std::array<int, 2> fds{};
        ASSERT_EQ(::pipe(fds.data()), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(fds[0]);
            writer_child(options, round, fds[1]);
        }
        ::close(fds[1]);
        // Let the child run between 20 and 200 ms, then kill it mid-flight.
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + randombytes_uniform(180)));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself, status " << status;

        Report message{};
        while (::read(fds[0], &message, sizeof message) == sizeof message) {
            ledger.apply(message);
        }
        ::close(fds[0]);

        const TokenStore store(options);
        ledger.settle(store);
        for (const auto& id : ledger.created) {
            const bool was_revoked = ledger.revoked.contains(id);
            EXPECT_EQ(store.find(id).has_value(), !was_revoked)
                << "round " << round << ": token " << id.hex()
                << (was_revoked ? " was revoked but is back" : " was created but is lost");
        }
        EXPECT_EQ(store.count(), ledger.created.size() - ledger.revoked.size())
            << "round " << round << ": the store holds tokens nobody created";
    }
    EXPECT_GT(ledger.created.size(), 5U) << "the writer made too little progress to test anything";
    EXPECT_GT(ledger.revoked.size(), 1U) << "the writer made too little progress to test anything";
}

[[noreturn]] void consumer_child(const StoreOptions& options, const TokenId& id, int report_fd) {
    try {
        TokenStore store(options);
        for (long long i = 0;; ++i) {
            report(report_fd, 'u', id);
            const UseVerdict verdict = store.consume_use(
                {id, testing::at(1'800'000'000 + i), "sshd", "192.0.2." + std::to_string(i % 20)});
            report(report_fd,
                   verdict == UseVerdict::Counted     ? 'U'
                   : verdict == UseVerdict::Exhausted ? 'X'
                                                      : 'G',
                   id);
        }
    } catch (...) {
        ::_exit(2);
    }
}

// What the parent learned about the uses, over all rounds.
struct UseLedger {
    std::uint64_t counted = 0; // uses the child was told were counted
    bool in_flight = false;    // a consume_use call had not returned at the kill
    bool exhausted = false;    // the child was told the limit was reached

    void apply(const Report& report) {
        switch (report.op) {
        case 'u': in_flight = true; break;
        case 'U': in_flight = false, ++counted; break;
        case 'X': in_flight = false, exhausted = true; break;
        default: ADD_FAILURE() << "unexpected report " << report.op;
        }
    }
};

TEST(CrashSafety, CountedUsesSurviveKillMinus9AndNeverExceedTheLimit) {
    constexpr std::uint64_t kMaxUses = 1'000;
    TempDir dir;
    const StoreOptions options = testing::options_for(dir);
    TokenRecord limited = testing::make_token("crash", "limited").record;
    limited.max_uses = kMaxUses;
    TokenStore(options).create(limited);
    UseLedger ledger;

    for (int round = 0; round < 5; ++round) {
        std::array<int, 2> fds{};
        ASSERT_EQ(::pipe(fds.data()), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(fds[0]);
            consumer_child(options, limited.id, fds[1]);
        }
        ::close(fds[1]);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + randombytes_uniform(180)));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the consumer stopped by itself, status " << status;

        Report message{};
        while (::read(fds[0], &message, sizeof message) == sizeof message) {
            ledger.apply(message);
        }
        ::close(fds[0]);

        const std::uint64_t on_disk = TokenStore(options).find(limited.id)->use_count;
        EXPECT_GE(on_disk, ledger.counted) << "round " << round << ": a counted use was lost";
        EXPECT_LE(on_disk, ledger.counted + (ledger.in_flight ? 1 : 0))
            << "round " << round << ": uses nobody made were counted";
        EXPECT_LE(on_disk, kMaxUses) << "round " << round << ": the limit was exceeded";
        if (ledger.exhausted) {
            EXPECT_EQ(on_disk, kMaxUses) << "round " << round;
        }
        ledger.counted = on_disk; // the use in flight, if any, settled either way
        ledger.in_flight = false;
    }
    EXPECT_GT(ledger.counted, 5U) << "the consumer made too little progress to test anything";
}

} // namespace
} // namespace apitoken::store
