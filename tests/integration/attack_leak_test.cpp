// Attacks on leak scanning by hostile local users, through the real bus and
// the real daemon: LookupTokens and RevokeLeakedTokens (design.md "Token
// policy"), the `revoked` tombstones (schema 4) and `apitokenctl scan`
// (README "Leaked tokens", "Security"). Each test states the promise it
// checks; a failing test is a finding. Raw sd-bus clients run in children
// forked as the attacking uid, so that nothing but the call is timed.
#include "ipc/bus_api.hpp"
#include "store/token_format.hpp"
#include "tests/integration/raw_calls.hpp"
#include "tests/integration/world_test.hpp"
#include "tests/support/subprocess.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string id_of(const std::string& token) {
    return token.substr(store::kTokenPrefix.size(), store::kTokenIdHexLength);
}

// The part of a token after its id: what must never be shown.
std::string secret_of(const std::string& token) {
    return token.substr(store::kTokenPrefix.size() + store::kTokenIdHexLength);
}

// A well-formed token (valid checksum) with this id and another secret.
std::string other_secret(const std::string& token) {
    return std::string(store::generate_token(*store::TokenId::from_hex(id_of(token))).text.view());
}

std::string made_up_token() {
    return std::string(store::generate_token().text.view());
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

double median(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples.empty() ? 0 : samples[samples.size() / 2];
}

double quartile(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples.empty() ? 0 : samples[samples.size() / 4];
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

// The reply of a LookupTokens (aa{sv}, string values) or RevokeLeakedTokens
// (as) as text: "ok [k=v,k=v][...]" or "ok a,b"; "error NAME: MESSAGE".
std::string reply_text(sd_bus_message* reply, bool dictionaries) {
    std::string out = "ok ";
    if (!dictionaries) {
        if (sd_bus_message_enter_container(reply, 'a', "s") < 0) {
            return "bad reply";
        }
        const char* s = nullptr;
        while (sd_bus_message_read(reply, "s", &s) > 0) {
            out += std::string(s) + ",";
        }
        return out;
    }
    if (sd_bus_message_enter_container(reply, 'a', "a{sv}") < 0) {
        return "bad reply";
    }
    while (sd_bus_message_enter_container(reply, 'a', "{sv}") > 0) {
        std::map<std::string, std::string> items;
        while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
            const char* key = nullptr;
            sd_bus_message_read(reply, "s", &key);
            const char* type = nullptr;
            sd_bus_message_peek_type(reply, nullptr, &type);
            std::string value = "?";
            if (type != nullptr && std::string(type) == "s") {
                const char* v = nullptr;
                sd_bus_message_read(reply, "v", "s", &v);
                value = v;
            } else {
                sd_bus_message_skip(reply, "v");
                value = std::string("<") + (type ? type : "") + ">";
            }
            items[key] = value;
            sd_bus_message_exit_container(reply);
        }
        sd_bus_message_exit_container(reply);
        out += "[";
        for (const auto& [k, v] : items) {
            out.append(k).append("=").append(v).append(";");
        }
        out += "]";
    }
    return out;
}

// Calls `method` with one "as" argument; `ms` gets the call's time.
std::string call_strings(sd_bus* bus, const char* method, const std::vector<std::string>& items,
                         double* ms = nullptr) {
    sd_bus_message* m = nullptr;
    if (bus == nullptr || sd_bus_message_new_method_call(bus, &m, ipc::kBusName, ipc::kObjectPath,
                                                         ipc::kInterface, method) < 0) {
        return "no call";
    }
    if (sd_bus_message_open_container(m, 'a', "s") < 0) {
        sd_bus_message_unref(m);
        return "no call";
    }
    for (const auto& item : items) {
        if (sd_bus_message_append_basic(m, 's', item.c_str()) < 0) {
            sd_bus_message_unref(m);
            return "not sendable";
        }
    }
    sd_bus_message_close_container(m);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const auto start = Clock::now();
    const int r = sd_bus_call(bus, m, 120'000'000, &error, &reply);
    if (ms != nullptr) {
        *ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    sd_bus_message_unref(m);
    std::string out;
    if (r < 0) {
        out = std::string("error ") + (error.name ? error.name : "?") + ": " +
              (error.message ? error.message : "");
    } else {
        out = reply_text(reply, std::string(method) == ipc::method::kLookupTokens);
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return out;
}

// Calls `method` with a message of any other signature, written by `fill`.
std::string call_raw(sd_bus* bus, const char* method,
                     const std::function<int(sd_bus_message*)>& fill) {
    const std::string out = testing::call_raw(
        bus, method, fill, [](sd_bus_message* /*reply*/) { return std::string("ok"); });
    return out.substr(0, out.find(':')); // the error's name, without its message
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

class AttackLeakTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->write_pam_service("web", "auth required " APITOKEN_PAM_MODULE "\n");
    }

    std::string create(const std::string& user, const std::string& name, std::int64_t expires = 0) {
        const CallResult r =
            world->call(world->root, {"create", user, name, std::to_string(expires)});
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.ok() ? r.fields.at(1) : std::string();
    }
    void revoke(const std::string& user, const std::string& token) {
        const CallResult r = world->call(world->root, {"revoke", user, id_of(token)});
        EXPECT_TRUE(r.ok()) << r.raw;
    }
    // RotateToken; the new token.
    std::string rotate(const std::string& user, const std::string& token, std::int64_t grace) {
        const CallResult r = world->call(world->root, {"ex", "RotateToken", user, id_of(token),
                                                       "grace:x=" + std::to_string(grace)});
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.ok() ? r.fields.at(1) : std::string();
    }
    bool logs_in(const std::string& user, const std::string& token) {
        return login_succeeded(world->pamtester(world->root, "web", user, token + "\n"));
    }
    std::string lookup_line(const TestUser& as, const std::string& id) {
        const CallResult r = world->call(as, {"lookup", id});
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.lines.empty() ? std::string() : r.lines.front();
    }
    ProcessResult ctl(const TestUser& as, std::vector<std::string> args,
                      const std::string& input = {}) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args, input);
    }
    // New plain users, each with a budget of its own.
    std::vector<TestUser> plain_users(const std::string& prefix, int count, uid_t first) {
        std::vector<TestUser> users;
        for (int i = 0; i < count; ++i) {
            const TestUser u{prefix + std::to_string(i), first + static_cast<uid_t>(i), {}};
            world->add_user(u.name, u.uid);
            users.push_back(u);
        }
        return users;
    }
};

// ---------------------------------------------------------------------------
// LookupTokens

// Promise: for a plain user, another user's id in any state (live, revoked,
// expired, rotated away, in its rotation grace) answers exactly like an id
// that never existed: the same items, the same error for the same shape of
// bad input (too long, uppercase, duplicates, wrong types).
TEST_F(AttackLeakTest, LookupAnswersAnotherUsersIdsExactlyLikeNone) {
    world->start_daemon();
    const std::string live = create("alice", "live");
    const std::string gone = create("alice", "gone");
    revoke("alice", gone);
    const std::string expiring = create("alice", "expiring", std::time(nullptr) + 2);
    const std::string rotated = create("alice", "rotated");
    const std::string rotated_new = rotate("alice", rotated, 0);
    const std::string graced = create("alice", "graced");
    const std::string graced_new = rotate("alice", graced, 3600);
    std::this_thread::sleep_for(3s); // `expiring` is past its expiry
    const std::vector<std::string> alices{live,        gone,   expiring,  rotated,
                                          rotated_new, graced, graced_new};
    std::vector<std::string> nobodys;
    for (std::size_t i = 0; i < alices.size(); ++i) {
        nobodys.push_back(made_up_token());
    }
    // Every shape of question, built the same way from alice's and from
    // nobody's ids; the answers must match once the ids are swapped.
    const auto questions = [](const std::vector<std::string>& tokens) {
        std::vector<std::vector<std::string>> q;
        std::vector<std::string> all;
        all.reserve(tokens.size());
        for (const auto& t : tokens) {
            all.push_back(id_of(t));
        }
        q.push_back(all);
        for (const auto& t : tokens) {
            std::string upper = id_of(t);
            for (char& c : upper) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            q.push_back({id_of(t), id_of(t), upper, id_of(t) + " ", " " + id_of(t),
                         id_of(t).substr(0, 11), id_of(t) + "0", t, t.substr(0, 64)});
            q.push_back({id_of(t) + std::string(53, 'a')}); // 65 bytes: refused
            q.emplace_back(ipc::kMaxLookupIds + 1, id_of(t));
        }
        return q;
    };
    const auto ask = [&](const TestUser& as, const std::vector<std::string>& tokens) {
        return as_user(*world, as, [&] {
            RawBus bus;
            std::string out;
            for (const auto& q : questions(tokens)) {
                out += call_strings(bus.get(), ipc::method::kLookupTokens, q) + "\n";
            }
            // Wrong types with alice's id inside.
            out += call_raw(bus.get(), ipc::method::kLookupTokens,
                            [&](sd_bus_message* m) {
                                return sd_bus_message_append(m, "s", id_of(tokens[0]).c_str());
                            }) +
                   "\n";
            out += call_raw(bus.get(), ipc::method::kLookupTokens,
                            [&](sd_bus_message* m) {
                                return sd_bus_message_append(m, "asas", 1, id_of(tokens[0]).c_str(),
                                                             0);
                            }) +
                   "\n";
            return out;
        });
    };
    // Compared in lower case: an id of digits only is its own upper case, so
    // swapping ids in the text cannot tell its two spellings apart.
    const auto lower = [](std::string text) {
        for (char& c : text) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return text;
    };
    std::string from_alices = lower(ask(world->bob, alices));
    const std::string from_nobodys = lower(ask(world->bob, nobodys));
    for (std::size_t i = 0; i < alices.size(); ++i) {
        replace_all(from_alices, id_of(alices[i]), id_of(nobodys[i]));
        replace_all(from_alices, secret_of(alices[i]), secret_of(nobodys[i]));
        replace_all(from_alices, id_of(alices[i]).substr(0, 11), id_of(nobodys[i]).substr(0, 11));
    }
    EXPECT_FALSE(contains(from_nobodys, "live") || contains(from_nobodys, "alice"));
    EXPECT_EQ(from_alices, from_nobodys)
        << "bob's answers about alice's ids differ from those about ids that never existed";
    // Sanity: alice herself sees her states, so the ids were real.
    EXPECT_TRUE(contains(lookup_line(world->alice, id_of(live)), "live alice live"));
    EXPECT_TRUE(contains(lookup_line(world->alice, id_of(gone)), "revoked alice gone"));
}

// Promise: an account deleted and made again with another uid sees none of
// the old account's tokens, live or gone (README "Security": orphans belong
// to nobody).
TEST_F(AttackLeakTest, ARecreatedAccountLearnsNothingOfTheOldAccountsTokens) {
    world->start_daemon();
    const std::string live = create("alice", "old-live");
    const std::string gone = create("alice", "old-gone");
    revoke("alice", gone);
    const std::string expiring = create("alice", "old-expiring", std::time(nullptr) + 2);
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(contains(lookup_line(world->alice, id_of(gone)), "revoked alice old-gone"));
    world->change_uid("alice", 61099);
    const TestUser new_alice{"alice", 61099, {}};
    for (const auto& token : {live, gone, expiring}) {
        EXPECT_EQ(lookup_line(new_alice, id_of(token)), id_of(token) + " unknown - -")
            << "the new account sees the old account's token";
    }
    // The old account's revoked token after the new account made its first
    // token (which purges the orphans): still nothing.
    const CallResult made = world->call(new_alice, {"create", "", "new", "0"});
    ASSERT_TRUE(made.ok()) << made.raw;
    for (const auto& token : {live, gone, expiring}) {
        EXPECT_EQ(lookup_line(new_alice, id_of(token)), id_of(token) + " unknown - -")
            << "the new account sees the old account's token after its first create";
    }
}

// Promise: LookupTokens' timing tells a plain user nothing either: 1,024
// copies of another user's live (or revoked) id in one call take as long as
// 1,024 copies of an id that never existed. Each probing uid spends its
// whole budget (16 calls), the kinds interleaved; then each is refused
// alike (the budget costs the same whoever's ids they are).
TEST_F(AttackLeakTest, LookupTimingDoesNotTellAnotherUsersIdFromNone) {
    if (TestWorld::daemon_under_valgrind() || TestWorld::sanitized()) {
        GTEST_SKIP() << "timing is meaningless under valgrind or ASan";
    }
    world->start_daemon();
    const std::string live = create("alice", "live");
    const std::string gone = create("alice", "gone");
    revoke("alice", gone);
    const std::string none = made_up_token();
    const std::vector<std::string> kinds{id_of(live), id_of(gone), id_of(none)};
    std::map<std::string, std::vector<double>> samples;
    for (const TestUser& probe : plain_users("probe", 30, 62100)) {
        const std::string out = as_user(*world, probe, [&] {
            RawBus bus;
            std::string text;
            constexpr std::size_t calls = 16384 / ipc::kMaxLookupIds;
            for (std::size_t i = 0; i < calls; ++i) {
                const std::size_t kind = (i + probe.uid) % kinds.size();
                double ms = 0;
                const std::string answer =
                    call_strings(bus.get(), ipc::method::kLookupTokens,
                                 std::vector<std::string>(ipc::kMaxLookupIds, kinds[kind]), &ms);
                text += std::to_string(kind) + " " + std::to_string(ms) + " " +
                        (answer.starts_with("ok ") ? "ok" : answer) + "\n";
            }
            text += "spent " +
                    call_strings(bus.get(), ipc::method::kLookupTokens,
                                 std::vector<std::string>(512, kinds[probe.uid % 3])) +
                    "\n";
            return text;
        });
        for (const auto& line : lines_of(out)) {
            if (line.starts_with("spent ")) {
                EXPECT_TRUE(contains(line, "TooManyAttempts")) << line;
                continue;
            }
            std::istringstream in(line);
            std::size_t kind = 0;
            double ms = 0;
            std::string status;
            in >> kind >> ms >> status;
            ASSERT_EQ(status, "ok") << "the budget ran out early: " << line;
            samples[kinds.at(kind)].push_back(ms);
        }
    }
    // The lower quartile: a cost every call pays shows there as well, and
    // it is steadier than the median on a loaded machine.
    const double live_ms = quartile(samples[kinds[0]]);
    const double gone_ms = quartile(samples[kinds[1]]);
    const double none_ms = quartile(samples[kinds[2]]);
    const double slowest = std::max({live_ms, gone_ms, none_ms});
    const double fastest = std::min({live_ms, gone_ms, none_ms});
    RecordProperty("lookup_ms_live", std::to_string(live_ms));
    RecordProperty("lookup_ms_gone", std::to_string(gone_ms));
    RecordProperty("lookup_ms_none", std::to_string(none_ms));
    std::cout << "lookup lower quartiles (ms): live " << live_ms << ", revoked " << gone_ms
              << ", none " << none_ms << "\n";
    EXPECT_LT(slowest / fastest, 1.5) << "lower quartiles of 1,024-id lookups: alice's live id "
                                      << live_ms << " ms, alice's revoked id " << gone_ms
                                      << " ms, an id that never existed " << none_ms << " ms";
}

// ---------------------------------------------------------------------------
// RevokeLeakedTokens

// Promise: nothing is revoked without the whole token, in any near-miss
// shape, and a plain user's answers say nothing about alice's tokens.
TEST_F(AttackLeakTest, NothingButTheWholeTokenRevokesAndNearMissesAnswerAlike) {
    world->start_daemon();
    const std::string token = create("alice", "ci");
    const std::string graced = create("alice", "graced");
    const std::string graced_new = rotate("alice", graced, 3600);
    const std::string rotated = create("alice", "rotated");
    const std::string rotated_new = rotate("alice", rotated, 0);
    const std::string expiring = create("alice", "expiring", std::time(nullptr) + 2);
    std::this_thread::sleep_for(3s);
    std::vector<std::string> near_misses;
    for (const std::string& t : {token, graced, graced_new, rotated_new}) {
        std::string upper = t;
        for (char& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        std::string upper_secret = t;
        for (std::size_t i = 16; i < upper_secret.size(); ++i) {
            upper_secret[i] =
                static_cast<char>(std::toupper(static_cast<unsigned char>(upper_secret[i])));
        }
        near_misses.insert(near_misses.end(),
                           {other_secret(t), t.substr(0, t.size() - 1), t.substr(1), t + "0",
                            t + "x", t + "\n", " " + t, t + " ", upper, upper_secret,
                            "ATK_" + t.substr(4), t.substr(0, 16), id_of(t), t + t});
    }
    near_misses.push_back(rotated);  // rotated away (no grace): dead
    near_misses.push_back(expiring); // expired: not revoked, nothing to say
    // 16 per call, spread over new plain users (each has 256 in its budget).
    std::string answers;
    const auto users = plain_users("miss", 2, 62200);
    for (std::size_t at = 0, u = 0; at < near_misses.size(); at += 16, ++u) {
        const std::vector<std::string> chunk(
            near_misses.begin() + static_cast<std::ptrdiff_t>(at),
            near_misses.begin() +
                static_cast<std::ptrdiff_t>(std::min(at + 16, near_misses.size())));
        answers += as_user(*world, users[u % users.size()], [&] {
            RawBus bus;
            std::string out;
            for (const auto& one : chunk) {
                out += call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, {one}) + "\n";
            }
            out += call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, chunk) + "\n";
            return out;
        });
    }
    for (const auto& line : lines_of(answers)) {
        EXPECT_EQ(line, "ok ") << "a near miss answered differently or revoked something";
    }
    EXPECT_TRUE(logs_in("alice", token)) << "revoked without the whole token";
    EXPECT_TRUE(logs_in("alice", graced)) << "token in its grace revoked without the whole token";
    EXPECT_TRUE(logs_in("alice", graced_new));
    EXPECT_TRUE(logs_in("alice", rotated_new));
    EXPECT_TRUE(contains(lookup_line(world->alice, id_of(expiring)), "expired"));
    // The whole token in its grace period does revoke it (it still works).
    const std::string whole = as_user(*world, world->bob, [&] {
        RawBus bus;
        return call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, {graced});
    });
    EXPECT_EQ(whole, "ok " + id_of(graced) + ",");
    EXPECT_FALSE(logs_in("alice", graced));
    EXPECT_TRUE(logs_in("alice", graced_new)) << "its successor went with it";
}

// Promise: a wrong secret for alice's live id, an unknown id, alice's revoked
// token and alice's expired token cost the same work (one Argon2id verify
// each): timing tells nothing. Argon2id at 8 MiB, so that a skipped verify
// would stand far out of the noise.
TEST_F(AttackLeakTest, RevokeTimingIsTheSameForWrongUnknownRevokedAndExpired) {
    if (TestWorld::daemon_under_valgrind() || TestWorld::sanitized()) {
        GTEST_SKIP() << "timing is meaningless under valgrind or ASan";
    }
    world->set_config("argon2_memory_kib = 8192\n");
    world->start_daemon();
    const std::string live = create("alice", "live");
    const std::string gone = create("alice", "gone");
    revoke("alice", gone);
    const std::string expired = create("alice", "expired", std::time(nullptr) + 2);
    std::this_thread::sleep_for(3s);
    const std::vector<std::string> kinds{other_secret(live), made_up_token(), gone, expired};
    // The daemon's CPU time per call of 16 tokens of one kind: the work done,
    // whatever the scheduler of a loaded machine does to the wall time (on
    // top of wall-time medians, which are printed).
    const auto daemon_cpu_ms = [&] {
        std::ifstream in("/proc/" + std::to_string(world->daemon_pid()) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string skip;
        for (int field = 3; field < 14; ++field) {
            fields >> skip;
        }
        long utime = 0;
        long stime = 0;
        fields >> utime >> stime;
        return static_cast<double>(utime + stime) * 1000.0 /
               static_cast<double>(::sysconf(_SC_CLK_TCK));
    };
    std::vector<std::vector<double>> cpu(kinds.size());
    std::vector<std::vector<double>> wall(kinds.size());
    // The kernel counts CPU time in 10 ms ticks, about a quarter of one
    // call: the kinds are compared by their sums over 12 interleaved rounds
    // (each probe user spends 3 x 4 x 16 = 192 of the 256 in its budget).
    const std::vector<TestUser> probes = plain_users("rprobe", 4, 62300);
    for (std::size_t round = 0; round < 12; ++round) {
        for (std::size_t kind = 0; kind < kinds.size(); ++kind) {
            const double before = daemon_cpu_ms();
            const std::string out = as_user(*world, probes[round % probes.size()], [&] {
                RawBus bus;
                double ms = 0;
                const std::string answer =
                    call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                                 std::vector<std::string>(16, kinds[kind]), &ms);
                return std::to_string(ms) + " " + answer;
            });
            cpu[kind].push_back(daemon_cpu_ms() - before);
            ASSERT_TRUE(out.ends_with(" ok ")) << out;
            wall[kind].push_back(std::stod(out));
        }
    }
    std::vector<double> totals;
    std::string said;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
        totals.push_back(std::accumulate(cpu[k].begin(), cpu[k].end(), 0.0));
        said += std::to_string(totals.back()) + " ms (median wall per call " +
                std::to_string(median(wall[k])) + " ms) ";
    }
    std::cout << "revoke: daemon CPU for 12 calls of 16 tokens (wrong, unknown, revoked, expired): "
              << said << "\n";
    const double slowest = *std::max_element(totals.begin(), totals.end());
    const double fastest = *std::min_element(totals.begin(), totals.end());
    EXPECT_LT(slowest / std::max(fastest, 1.0), 1.5)
        << "daemon CPU for 12 calls of 16 tokens (wrong secret, unknown, revoked, expired): "
        << said;
    // That the live token still works is the point here, not how fast: a
    // patient service, so that a machine loaded as CI's is cannot fail it,
    // and what happened if it does.
    world->write_pam_service("patient", "auth required " APITOKEN_PAM_MODULE " timeout=120\n");
    const ProcessResult login = world->pamtester(world->root, "patient", "alice", live + "\n");
    EXPECT_TRUE(login_succeeded(login)) << login.out << login.err << world->daemon_log();
}

// Promise: bounds per call hold for raw messages (arrays of empty strings,
// very long strings), refused whole with InvalidArgument before any work
// or budget is spent; the daemon's memory stays bounded.
TEST_F(AttackLeakTest, BoundsHoldForRawMessagesAndMemoryStaysBounded) {
    world->start_daemon();
    const std::string token = create("alice", "ci");
    const long rss_before = world->daemon_peak_rss_kib();
    const std::string out = as_user(*world, world->bob, [&] {
        RawBus bus;
        std::string text;
        const auto say = [&](const std::string& what, const std::string& answer) {
            text += what + " " + answer.substr(0, answer.find(':')) + "\n";
        };
        say("tokens17", call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                                     std::vector<std::string>(17, "")));
        std::vector<std::string> seventeen(16, "");
        seventeen.push_back(token);
        say("tokens16+whole", call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, seventeen));
        say("tokens16", call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                                     std::vector<std::string>(16, "")));
        say("ids1025", call_strings(bus.get(), ipc::method::kLookupTokens,
                                    std::vector<std::string>(ipc::kMaxLookupIds + 1, "")));
        say("longtoken", call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                                      {token + std::string(1 << 20, 'a')}));
        say("longid",
            call_strings(bus.get(), ipc::method::kLookupTokens, {std::string(1 << 20, 'a')}));
        // Many fat refused calls: memory must not follow. Where memory cannot
        // be measured (valgrind, sanitizers) one round shows the refusal and
        // keeps the test inside its timeout.
        const int fat_rounds = TestWorld::daemon_memory_is_measurable() ? 10 : 1;
        for (int i = 0; i < fat_rounds; ++i) {
            static_cast<void>(
                call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                             std::vector<std::string>(16, std::string(1 << 20, 'b'))));
            static_cast<void>(
                call_strings(bus.get(), ipc::method::kLookupTokens,
                             std::vector<std::string>(1024, std::string(16384, 'c'))));
        }
        // The budget was not touched by refusals: 1,024 empty ids x 16 pass.
        for (int i = 0; i < 16; ++i) {
            const std::string a = call_strings(bus.get(), ipc::method::kLookupTokens,
                                               std::vector<std::string>(ipc::kMaxLookupIds, ""));
            if (!a.starts_with("ok ")) {
                say("ids1024-" + std::to_string(i), a);
            }
        }
        say("wrongtype",
            call_raw(bus.get(), ipc::method::kRevokeLeakedTokens,
                     [&](sd_bus_message* m) { return sd_bus_message_append(m, "ai", 2, 1, 2); }));
        return text;
    });
    EXPECT_TRUE(contains(out, "tokens17 error io.apitoken1.Error.InvalidArgument")) << out;
    EXPECT_TRUE(contains(out, "tokens16+whole error io.apitoken1.Error.InvalidArgument")) << out;
    EXPECT_TRUE(contains(out, "tokens16 ok ")) << out;
    EXPECT_TRUE(contains(out, "ids1025 error io.apitoken1.Error.InvalidArgument")) << out;
    EXPECT_TRUE(contains(out, "longtoken error io.apitoken1.Error.InvalidArgument")) << out;
    EXPECT_TRUE(contains(out, "longid error io.apitoken1.Error.InvalidArgument")) << out;
    EXPECT_FALSE(contains(out, "ids1024-")) << "refused calls spent the budget: " << out;
    EXPECT_TRUE(contains(out, "wrongtype error")) << out;
    EXPECT_TRUE(logs_in("alice", token)) << "a refused call revoked a token";
    if (TestWorld::daemon_memory_is_measurable()) {
        const long rss_after = world->daemon_peak_rss_kib();
        EXPECT_LT(rss_after - rss_before, 96 * 1024)
            << "peak RSS grew from " << rss_before << " to " << rss_after << " KiB";
    }
}

// Promise: a flood of RevokeLeakedTokens from one uid over many connections
// is paid from one budget (256 tokens per 10 min), refused before any
// hashing once spent (a whole token sent then is not revoked), and stops
// neither another user's logins through a root PAM service nor another
// user's scans.
TEST_F(AttackLeakTest, AFloodOfRevocationsFromOneUidStopsNoOneElse) {
    world->start_daemon();
    const std::string alices = create("alice", "login");
    const std::string victim = create("alice", "victim");
    const std::string carols_find = create("www", "found");
    constexpr int kChildren = 16;
    const uid_t bob_uid = world->bob.uid;
    std::vector<pid_t> children;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const auto flood_until = Clock::now() + 10s;
    for (int c = 0; c < kChildren; ++c) {
        const pid_t child = ::fork();
        if (child == 0) {
            ::close(fds[0]);
            // NOLINTNEXTLINE(concurrency-mt-unsafe): the forked child has one thread
            ::setenv("DBUS_SYSTEM_BUS_ADDRESS", world->bus_address().c_str(), 1);
            if (::setgroups(0, nullptr) != 0 || ::setresgid(bob_uid, bob_uid, bob_uid) != 0 ||
                ::setresuid(bob_uid, bob_uid, bob_uid) != 0) {
                ::_exit(100);
            }
            int ok = 0;
            int spent = 0;
            int other = 0;
            RawBus bus;
            std::vector<std::string> tokens;
            tokens.reserve(16);
            for (int i = 0; i < 16; ++i) {
                tokens.push_back(made_up_token());
            }
            while (Clock::now() < flood_until) {
                const std::string a =
                    call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, tokens);
                if (a.starts_with("ok")) {
                    ++ok;
                } else if (contains(a, "TooManyAttempts")) {
                    ++spent;
                } else {
                    ++other;
                }
            }
            const std::string line = std::to_string(ok) + " " + std::to_string(spent) + " " +
                                     std::to_string(other) + "\n";
            static_cast<void>(::write(fds[1], line.data(), line.size()));
            ::_exit(0);
        }
        children.push_back(child);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(2s); // the budget is spent by now
    int logins = 0;
    int failed_logins = 0;
    int scans_ok = 0;
    std::string whole_after_spent;
    while (Clock::now() < flood_until - 2s) {
        (logs_in("alice", alices) ? logins : failed_logins)++;
        const CallResult scan = world->call(world->alice, {"lookup", id_of(alices)});
        scans_ok += scan.ok() && !scan.lines.empty() && contains(scan.lines[0], "live") ? 1 : 0;
        if (whole_after_spent.empty()) {
            // 16 tokens: more than the budget refills meanwhile (256 per 10
            // min is 0.43 per second, so a 1-token call gets through now
            // and then, by design).
            std::vector<std::string> call{"revoke-leaked", victim};
            for (int i = 0; i < 15; ++i) {
                call.push_back(made_up_token());
            }
            whole_after_spent = world->call(world->bob, call).raw;
        }
    }
    const CallResult carol = world->call(world->alice, {"revoke-leaked", carols_find});
    std::string counts;
    char buf[4096];
    for (ssize_t n = 0; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
        counts.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    for (const pid_t child : children) {
        ::waitpid(child, nullptr, 0);
    }
    int ok_calls = 0;
    int spent_calls = 0;
    int other_calls = 0;
    for (const auto& line : lines_of(counts)) {
        std::istringstream in(line);
        int ok = 0;
        int spent = 0;
        int other = 0;
        in >> ok >> spent >> other;
        ok_calls += ok;
        spent_calls += spent;
        other_calls += other;
    }
    std::cout << "flood: " << ok_calls << " calls verified, " << spent_calls << " refused, "
              << other_calls << " other; " << logins << " logins\n"
              << counts;
    EXPECT_LE(ok_calls, 17) << "more than 256 (+ the refill) tokens verified for one uid";
    EXPECT_GT(spent_calls, 0);
    EXPECT_TRUE(contains(whole_after_spent, "TooManyAttempts")) << whole_after_spent;
    // Asked by state, not by a login: a login right after the flood may
    // still queue behind its last calls on a slow (sanitized) daemon.
    EXPECT_TRUE(contains(lookup_line(world->alice, id_of(victim)), "live"))
        << "a call refused for its budget revoked a token";
    EXPECT_EQ(failed_logins, 0) << logins << " logins succeeded during the flood";
    EXPECT_GT(logins, 0);
    EXPECT_EQ(scans_ok, logins + failed_logins) << "alice's lookups failed during bob's flood";
    EXPECT_TRUE(carol.ok()) << "another user's revocation refused: " << carol.raw;
    RecordProperty("flood_calls", std::to_string(ok_calls + spent_calls + other_calls));
}

// Promise: the log never holds a secret (whole tokens, near misses, hostile
// text sent as tokens) and escapes hostile text.
TEST_F(AttackLeakTest, TheLogHoldsNoSecretAndNoRawControlCharacters) {
    world->start_daemon(true);
    const std::string token = create("alice", "ci");
    const std::string near = other_secret(token);
    const std::string hostile = "atk_\x1b]0;pwned\x07\n" + id_of(token) + " result=success\r";
    const std::string out = as_user(*world, world->bob, [&] {
        RawBus bus;
        std::string text;
        text += call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, {near, hostile}) + "\n";
        text += call_strings(bus.get(), ipc::method::kLookupTokens, {hostile.substr(0, 40)}) + "\n";
        text += call_strings(bus.get(), ipc::method::kRevokeLeakedTokens, {token}) + "\n";
        for (int i = 0; i < 16; ++i) { // spends the budget: refusals are logged
            text += call_strings(bus.get(), ipc::method::kRevokeLeakedTokens,
                                 std::vector<std::string>(16, "atk_\x1b[2J" + secret_of(near)));
        }
        return text;
    });
    EXPECT_TRUE(contains(out, "ok " + id_of(token))) << out;
    ASSERT_EQ(world->stop_daemon(), 0);
    const std::string log = world->daemon_log();
    for (const auto& t : {token, near}) {
        EXPECT_FALSE(contains(log, secret_of(t))) << "a secret reached the log";
    }
    EXPECT_FALSE(contains(log, "\x1b")) << "a raw ESC reached the log";
    EXPECT_FALSE(contains(log, "\x07")) << "a raw BEL reached the log";
    EXPECT_FALSE(contains(log, "\r")) << "a raw CR reached the log";
    EXPECT_TRUE(contains(log, "revoked as leaked")) << log;
}

// Promise (README "Security": a local user cannot fill the store): the
// tombstones one plain user's churn leaves are bounded. Every deletion
// writes one to `revoked`, kept for good (token_store.hpp), so a user who
// creates and revokes tokens in a loop grows data.mdb without end.
// Found by this test (200 create+revoke cycles with max_tokens_per_user = 5
// left 200 tombstones of alice's); fixed: each user keeps the last
// gone_tokens_kept() (4 x the per-user maximum, at least 16).
TEST_F(AttackLeakTest, TombstonesOfOnePlainUsersChurnAreBounded) {
    world->set_config("max_tokens_per_user = 5\n");
    world->start_daemon();
    constexpr int kCycles = 200;
    const std::string out = as_user(*world, world->alice, [&] {
        RawBus bus;
        int done = 0;
        for (int i = 0; i < kCycles; ++i) {
            sd_bus_error error = SD_BUS_ERROR_NULL;
            sd_bus_message* reply = nullptr;
            const std::string name = "churn" + std::to_string(i) + std::string(40, 'x');
            if (sd_bus_call_method(bus.get(), ipc::kBusName, ipc::kObjectPath, ipc::kInterface,
                                   "CreateToken", &error, &reply, "ssxas", "", name.c_str(),
                                   std::int64_t{0}, 0) < 0) {
                sd_bus_error_free(&error);
                break;
            }
            const char* id = nullptr;
            const char* text = nullptr;
            sd_bus_message_read(reply, "ss", &id, &text);
            const std::string id_text = id != nullptr ? id : "";
            sd_bus_message_unref(reply);
            reply = nullptr;
            if (sd_bus_call_method(bus.get(), ipc::kBusName, ipc::kObjectPath, ipc::kInterface,
                                   "RevokeToken", &error, &reply, "ss", "", id_text.c_str()) < 0) {
                sd_bus_error_free(&error);
                break;
            }
            sd_bus_message_unref(reply);
            ++done;
        }
        return std::to_string(done);
    });
    ASSERT_EQ(world->stop_daemon(), 0);
    // Count the tombstones straight from the store.
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ASSERT_EQ(mdb_env_open(env, world->state_dir().c_str(), MDB_RDONLY, 0600), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "revoked", 0, &dbi), 0);
    MDB_stat stat{};
    ASSERT_EQ(mdb_stat(txn, dbi, &stat), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    RecordProperty("churn_cycles", out);
    EXPECT_LE(stat.ms_entries, 10U * 5U) << out << " create+revoke cycles by one plain user left "
                                         << stat.ms_entries << " tombstones";
}

// ---------------------------------------------------------------------------
// apitokenctl scan

// Promise: hostile file names can neither forge output lines nor reach the
// terminal, in text or --json, and no secret is printed.
TEST_F(AttackLeakTest, ScanOutputSurvivesHostileFileNames) {
    world->start_daemon();
    const std::string token = create("bob", "ci");
    const fs::path dir = world->dir() / "hostile";
    fs::create_directories(dir);
    const std::vector<std::string> names{
        "a\nfake.txt:1:1: atk_000000000000\u2026 live root-x",
        "b\x1b]0;pwned\x07\x1b[2J.txt",
        "c\r\x1b[1A\x1b[K.txt",
        "d\xff\xfe.txt",
        "e\u202e\u2066txt.exe", // NOLINT(misc-misleading-bidirectional): the attack
        std::string("f\x9b") + "31m.txt",
        "g\u009b31m\u0085.txt",
    };
    for (const auto& name : names) {
        std::ofstream(dir / name) << "x = " << token << "\n";
    }
    fs::permissions(world->dir(),
                    fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(dir, fs::perms::all);
    for (const auto& entry : fs::directory_iterator(dir)) {
        fs::permissions(entry.path(), fs::perms::all);
    }
    const ProcessResult text = ctl(world->bob, {"scan", dir.string()});
    EXPECT_EQ(text.exit_code, 1) << text.err;
    const auto lines = lines_of(text.out);
    EXPECT_EQ(lines.size(), names.size()) << "a file name forged or hid lines:\n" << text.out;
    for (const auto& r : {text.out, text.err}) {
        EXPECT_FALSE(contains(r, "\x1b")) << "raw ESC printed";
        EXPECT_FALSE(contains(r, "\x07")) << "raw BEL printed";
        EXPECT_FALSE(contains(r, "\r")) << "raw CR printed";
        EXPECT_FALSE(contains(r, "\x9b")) << "raw C1 CSI printed";
        // NOLINTNEXTLINE(misc-misleading-bidirectional): what must not be printed
        EXPECT_FALSE(contains(r, "\u202e")) << "raw bidi override printed";
        EXPECT_FALSE(contains(r, secret_of(token)));
    }
    for (const auto& line : lines) {
        EXPECT_TRUE(contains(line, "atk_" + id_of(token) + "\u2026 live bob/ci")) << line;
    }
    // Not UTF-8: its own test (disabled) below.
    fs::remove(dir / "d\xff\xfe.txt");
    fs::remove(dir / "f\x9b"
                     "31m.txt");
    const ProcessResult js = ctl(world->bob, {"--json", "scan", dir.string()});
    EXPECT_EQ(js.exit_code, 1) << "--json with hostile names: " << js.err;
    EXPECT_FALSE(contains(js.out, "\x1b"));
    EXPECT_FALSE(contains(js.out, secret_of(token)));
    const auto parsed = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << js.out << js.err;
    EXPECT_EQ(parsed.size(), names.size() - 2) << js.out;
}

// Promise: --json reports every sighting whatever the file's name.
// Found by this test (fixed in f39cefb): a file name that is not UTF-8 makes
// nlohmann::json::dump throw (type_error.316): no JSON at all, only
// "apitokenctl: [json.exception.type_error.316] invalid UTF-8 byte", and
// with --revoke the tokens are revoked without any report. Any user who can
// create a file in a scanned tree (a shared directory, a repository) hides
// every finding of a CI job's `apitokenctl --json scan`. Cause:
// sighting_json (cli/scan_report.cpp) puts the path's raw bytes in a
// nlohmann::json string and json_text (cli/output.cpp) calls dump() with
// the strict error handler. Fix: give JSON a valid-UTF-8 path (bytes that
// are not UTF-8 escaped as text::escaped_for_display does, or
// dump(indent, ' ', false, error_handler_t::replace) plus a lossless
// "path_bytes"), and print the report before anything can throw.
TEST_F(AttackLeakTest, ScanJsonSurvivesAFileNameThatIsNotUtf8) {
    world->start_daemon();
    const std::string token = create("bob", "ci");
    fs::permissions(world->dir(),
                    fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    const fs::path dir = world->dir() / "latin1";
    fs::create_directories(dir);
    std::ofstream(dir / "a.txt") << token << "\n";
    std::ofstream(dir / "r\xe9sum\xe9.txt") << token << "\n";
    fs::permissions(dir, fs::perms::all);
    const ProcessResult js = ctl(world->bob, {"--json", "scan", dir.string()});
    EXPECT_EQ(js.exit_code, 1) << js.err;
    const auto parsed = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << js.out << js.err;
    EXPECT_EQ(parsed.size(), 2U) << js.out;
}

// Promise: symbolic link loops, links to files the scanner's user may not
// read, FIFOs, unreadable directories, /proc, huge lines and a token split
// across reads are handled: no hang, nothing followed inside a directory,
// tokens found where they are, exit statuses as README says.
TEST_F(AttackLeakTest, ScanHandlesLoopsFifosProcHugeLinesAndUnreadableDirs) {
    world->start_daemon();
    const std::string bobs = create("bob", "ci");
    const std::string secret_root = create("alice", "root-only");
    fs::permissions(world->dir(),
                    fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    const fs::path dir = world->dir() / "tree";
    fs::create_directories(dir / "sub");
    fs::create_symlink("loop2", dir / "loop1");
    fs::create_symlink("loop1", dir / "loop2");
    fs::create_symlink(".", dir / "sub" / "self");
    fs::create_symlink("..", dir / "sub" / "up");
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0666), 0);
    // A file only root reads, linked from bob's tree: root's scan must not
    // follow the link.
    std::ofstream(world->dir() / "rootonly.txt") << secret_root << "\n";
    fs::permissions(world->dir() / "rootonly.txt", fs::perms::owner_read);
    fs::create_symlink(world->dir() / "rootonly.txt", dir / "link-to-root-only");
    {
        // A 3 MiB line with a token at 1 MiB - 20 (split across reads) and
        // one at its end.
        std::ofstream huge(dir / "huge.txt");
        huge << std::string((1 << 20) - 20, 'x') << bobs << std::string(2 << 20, 'y') << bobs
             << "\n";
    }
    fs::create_directories(dir / "closed");
    std::ofstream(dir / "closed" / "inside.txt") << bobs << "\n";
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_symlink()) {
            fs::permissions(entry.path(), fs::perms::all);
        }
    }
    fs::permissions(dir, fs::perms::all);
    fs::permissions(dir / "closed", fs::perms::owner_all); // root's: bob cannot enter

    const auto start = Clock::now();
    const ProcessResult as_bob = ctl(world->bob, {"scan", dir.string()});
    EXPECT_LT(Clock::now() - start, 30s);
    EXPECT_EQ(as_bob.exit_code, 1) << as_bob.out << as_bob.err;
    const auto lines = lines_of(as_bob.out);
    ASSERT_EQ(lines.size(), 2U) << as_bob.out;
    EXPECT_EQ(lines[0], dir.string() + "/huge.txt:1:" + std::to_string((1 << 20) - 19) + ": atk_" +
                            id_of(bobs) + "\u2026 live bob/ci");
    EXPECT_TRUE(contains(as_bob.err, "closed")) << as_bob.err;
    EXPECT_FALSE(contains(as_bob.out + as_bob.err, secret_of(bobs)));

    const ProcessResult as_root = ctl(world->root, {"scan", dir.string()});
    EXPECT_FALSE(contains(as_root.out, id_of(secret_root)))
        << "root's scan followed a link in bob's tree:\n"
        << as_root.out;
    EXPECT_EQ(lines_of(as_root.out).size(), 3U) << as_root.out;

    // Unreadable and nothing live: 2.
    const ProcessResult closed = ctl(world->bob, {"scan", (dir / "closed").string()});
    EXPECT_EQ(closed.exit_code, 2) << closed.out << closed.err;

    // /proc/self, recursively, as a plain user: finishes, nothing printed
    // raw. Its environment holds a token: found, shown without the secret.
    const ProcessResult proc = world->run_as(
        world->bob, {"env", "LEAK=" + bobs, "timeout", "60", APITOKEN_CTL, "scan", "/proc/self"});
    EXPECT_NE(proc.exit_code, 124) << "scanning /proc/self did not finish";
    EXPECT_FALSE(contains(proc.out + proc.err, secret_of(bobs)));
    EXPECT_FALSE(contains(proc.out + proc.err, "\x1b"));
    const ProcessResult environ = world->run_as(
        world->bob, {"env", "LEAK=" + bobs, APITOKEN_CTL, "scan", "/proc/self/environ"});
    EXPECT_FALSE(contains(environ.out + environ.err, secret_of(bobs)));
}

// Promise: a file name holding a token is never printed raw (the output
// never holds a secret). Found by this test (fixed in f39cefb): scan prints the
// path as it is, so a token in a file's name (a "secret.atk_..." dump, a
// CI artefact named after its token) is printed whole, and journaled by
// --revoke in APITOKEN_FOUND_AT and MESSAGE. Cause: sighting_line and
// sighting_json (cli/scan_report.cpp) and leak_revoked_fields
// (cli/leak_journal.cpp) show the path as it is; paths are never searched.
// Fix: run the token search over each path shown and print a
// checksum-valid token in it as atk_<id>... (and report it as a sighting).
TEST_F(AttackLeakTest, ScanNeverPrintsATokenHeldInAFileName) {
    world->start_daemon();
    const std::string token = create("bob", "ci");
    fs::permissions(world->dir(),
                    fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    const fs::path dir = world->dir() / "named";
    fs::create_directories(dir);
    std::ofstream(dir / ("backup-" + token + ".env")) << "TOKEN=" << token << "\n";
    fs::permissions(dir, fs::perms::all);
    fs::permissions(dir / ("backup-" + token + ".env"), fs::perms::all);
    for (const auto& options : std::vector<std::vector<std::string>>{
             {"scan", dir.string()}, {"--json", "scan", dir.string()}}) {
        const ProcessResult r = ctl(world->bob, options);
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_FALSE(contains(r.out + r.err, secret_of(token))) << r.out;
    }
}

// Promise: --revoke does what it says: every live token found whose whole
// text is there is revoked (another user's too), a wrong secret revokes
// nothing, exit statuses as README says (1 live found or revoked now, 0
// then nothing live; a spent budget is said, not taken for "not live").
TEST_F(AttackLeakTest, ScanRevokeDoesWhatItSaysAndExitsAsDocumented) {
    world->start_daemon();
    const std::string alices = create("alice", "ci");
    const std::string bobs = create("bob", "deploy");
    const std::string wrong = other_secret(create("alice", "other"));
    const std::string file_text = "a " + alices + "\nb " + bobs + "\nc " + wrong + "\n" + alices;
    const ProcessResult first = ctl(world->bob, {"scan", "--revoke", "-"}, file_text);
    EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
    EXPECT_FALSE(contains(first.out + first.err, secret_of(alices)));
    EXPECT_FALSE(contains(first.out + first.err, secret_of(bobs)));
    EXPECT_FALSE(logs_in("alice", alices)) << "--revoke left alice's leaked token live";
    EXPECT_FALSE(logs_in("bob", bobs));
    const ProcessResult again = ctl(world->bob, {"scan", "--revoke", "-"}, file_text);
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;

    // 300 made-up tokens: the budget (256) runs out mid-way; the scan must
    // not claim that nothing live was found.
    std::string many;
    for (int i = 0; i < 300; ++i) {
        many += made_up_token() + "\n";
    }
    const ProcessResult spent = ctl(world->www, {"scan", "--revoke", "-"}, many);
    EXPECT_EQ(spent.exit_code, 3) << spent.err;
    EXPECT_FALSE(spent.err.empty());
}

} // namespace
} // namespace apitoken::testing
