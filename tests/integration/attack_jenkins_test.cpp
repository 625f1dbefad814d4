// Attacks on the Jenkins import (issue 15 part 1) through the real path: a
// private bus, the real apitokend, raw sd-bus calls as other uids, the real
// apitokenctl import-jenkins run as root on a hostile JENKINS_HOME, and
// pamtester through pam_wrapper. Each test states the promise it checks
// (README "Moving from Jenkins", "Security"); a failing test is a finding.
#include "ipc/bus_api.hpp"
#include "tests/integration/raw_calls.hpp"
#include "tests/integration/world_test.hpp"
#include "tests/support/subprocess.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace apitoken::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Helpers: raw bus calls as any uid (raw_calls.hpp).

// An aa{sv} reply with string values as "ok [k=v;...][...]".
std::string dictionaries_text(sd_bus_message* reply) {
    std::string out = "ok ";
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

// One item of an ImportTokens entry.
using Item = std::function<int(sd_bus_message*)>;

Item str(const char* key, std::string value) {
    return [key, value = std::move(value)](sd_bus_message* m) {
        return sd_bus_message_append(m, "{sv}", key, "s", value.c_str());
    };
}
Item i64(const char* key, std::int64_t value) {
    return [key, value](sd_bus_message* m) {
        return sd_bus_message_append(m, "{sv}", key, "x", value);
    };
}
Item u64(const char* key, std::uint64_t value) {
    return [key, value](sd_bus_message* m) {
        return sd_bus_message_append(m, "{sv}", key, "t", value);
    };
}
using Entry = std::vector<Item>;

std::string import_raw(sd_bus* bus, const std::string& user, const std::vector<Entry>& entries) {
    return call_raw(
        bus, ipc::method::kImportTokens,
        [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "s", user.c_str());
            r = r < 0 ? r : sd_bus_message_open_container(m, 'a', "a{sv}");
            for (const Entry& entry : entries) {
                r = r < 0 ? r : sd_bus_message_open_container(m, 'a', "{sv}");
                for (const Item& item : entry) {
                    r = r < 0 ? r : item(m);
                }
                r = r < 0 ? r : sd_bus_message_close_container(m);
            }
            return r < 0 ? r : sd_bus_message_close_container(m);
        },
        dictionaries_text);
}

// AuthenticateEx(user, token, {}): "ok ID" or "error NAME: ...".
std::string authenticate_raw(sd_bus* bus, const std::string& user, const std::string& token) {
    return call_raw(
        bus, ipc::method::kAuthenticateEx,
        [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "ssa{sv}", user.c_str(), token.c_str(), 0);
        },
        [](sd_bus_message* reply) {
            const char* id = nullptr;
            return sd_bus_message_read(reply, "s", &id) < 0 ? std::string("bad reply")
                                                            : "ok " + std::string(id);
        });
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A Jenkins token "11" + 32 hex made from `seed`, and the SHA-256 (hex) of
// its 32 hex characters, as Jenkins keeps it.
struct JenkinsToken {
    std::string text;
    std::string sha256;
};

JenkinsToken jenkins_token(unsigned seed) {
    std::array<char, 33> hex{};
    (void)std::snprintf(hex.data(), hex.size(), "%08x%08x%08x%08x", seed * 2654435761U,
                        seed ^ 0xdeadbeefU, seed + 0x1234567U, ~seed);
    const std::string secret(hex.data(), 32);
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size());
    std::array<char, 2 * crypto_hash_sha256_BYTES + 1> digest_hex{};
    sodium_bin2hex(digest_hex.data(), digest_hex.size(), digest.data(), digest.size());
    return {"11" + secret, std::string(digest_hex.data())};
}

std::string uuid_of(unsigned seed) {
    std::array<char, 40> text{};
    (void)std::snprintf(text.data(), text.size(), "%08x-0000-4000-8000-%012x", seed, seed);
    return text.data();
}

Entry good_entry(unsigned seed, const std::string& name = "t") {
    return {str(ipc::key::kOriginId, uuid_of(seed)), str(ipc::key::kName, name),
            str(ipc::key::kJenkinsHash, jenkins_token(seed).sha256)};
}

// The whole process's CPU time (every thread: the loop and the hash
// workers), in ms.
double process_cpu_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t at = text.rfind(')') + 2; // field 3 starts here
    for (int field = 3; field < 14; ++field) {
        at = text.find(' ', at) + 1;
    }
    const long utime = std::strtol(text.c_str() + at, nullptr, 10);
    at = text.find(' ', at) + 1;
    const long stime = std::strtol(text.c_str() + at, nullptr, 10);
    return static_cast<double>(utime + stime) * 1000.0 /
           static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class AttackJenkinsTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        ASSERT_GE(sodium_init(), 0);
        world->write_pam_service("jenkins",
                                 "auth required " APITOKEN_PAM_MODULE " jenkins_tokens\n");
    }

    std::string as(const TestUser& user, const std::function<std::string(sd_bus*)>& body) const {
        return as_user(*world, user, [&] {
            RawBus bus;
            return body(bus.get());
        });
    }
    std::string import_as(const TestUser& user, const std::string& target,
                          const std::vector<Entry>& entries) const {
        return as(user, [&](sd_bus* bus) { return import_raw(bus, target, entries); });
    }
    std::string auth_as_root(const std::string& user, const std::string& token) const {
        return as(world->root, [&](sd_bus* bus) { return authenticate_raw(bus, user, token); });
    }

    // A JENKINS_HOME under the world's directory.
    fs::path jenkins_home() const { return world->dir() / "jenkins_home"; }
    void write_user(const std::string& directory, const std::string& id, unsigned seed,
                    const std::string& token_name = "ci",
                    const std::string& created = "2023-05-01 10:11:12.123 UTC") const {
        const fs::path dir = jenkins_home() / "users" / directory;
        fs::create_directories(dir);
        std::ofstream(dir / "config.xml") << user_config(id, seed, token_name, created);
    }
    static std::string user_config(const std::string& id, unsigned seed,
                                   const std::string& token_name,
                                   const std::string& created = "2023-05-01 10:11:12.123 UTC") {
        return "<?xml version='1.1' encoding='UTF-8'?>\n<user>\n  <version>10</version>\n  <id>" +
               id +
               "</id>\n  <properties>\n    <jenkins.security.ApiTokenProperty>\n"
               "      <tokenStore>\n        <tokenList>\n"
               "          <jenkins.security.apitoken.ApiTokenStore_-HashedToken>\n"
               "            <uuid>" +
               uuid_of(seed) + "</uuid>\n            <name>" + token_name +
               "</name>\n            <creationDate>" + created +
               "</creationDate>\n"
               "            <value>\n              <version>11</version>\n              <hash>" +
               jenkins_token(seed).sha256 +
               "</hash>\n            </value>\n"
               "          </jenkins.security.apitoken.ApiTokenStore_-HashedToken>\n"
               "        </tokenList>\n      </tokenStore>\n"
               "    </jenkins.security.ApiTokenProperty>\n  </properties>\n</user>\n";
    }
    ProcessResult import_jenkins_as_root(const std::vector<std::string>& extra = {}) const {
        Environment env = world->nss_environment();
        env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + world->bus_address());
        std::vector<std::string> argv{APITOKEN_CTL, "import-jenkins", jenkins_home().string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv, env, std::chrono::seconds(60));
    }
    bool logs_in(const std::string& user, const std::string& token) const {
        return login_succeeded(world->pamtester(world->root, "jenkins", user, token + "\n"));
    }
};

// ---------------------------------------------------------------------------
// Promise: ImportTokens is for root and apitoken-admin only; nobody else
// can plant a hash they know, for themselves or anyone (ipc/bus_api.hpp).
TEST_F(AttackJenkinsTest, OnlyRootAndAdminsImport) {
    world->start_daemon();
    const JenkinsToken planted = jenkins_token(1);
    const std::vector<std::string> targets{"", "alice", "bob", "root", "admin", "nobody-here"};
    for (const TestUser* user : {&world->alice, &world->bob, &world->www}) {
        for (const std::string& target : targets) {
            const std::string answer = import_as(*user, target, {good_entry(1)});
            EXPECT_TRUE(starts_with(answer, "error "))
                << user->name << " -> " << target << ": " << answer;
            EXPECT_TRUE(contains(answer, "AccessDenied")) << answer;
            // A dry run too.
            Entry dry = good_entry(1);
            dry.push_back([](sd_bus_message* m) {
                return sd_bus_message_append(m, "{sv}", ipc::key::kDryRun, "b", 1);
            });
            EXPECT_TRUE(contains(import_as(*user, target, {dry}), "AccessDenied"));
        }
        // Wrong types and an empty array from a plain user: refused alike,
        // nothing learnt.
        const std::string empty = import_as(*user, "bob", {});
        EXPECT_TRUE(starts_with(empty, "error ")) << empty;
    }
    // Nothing was planted: the token works for nobody, and a plain user
    // cannot even ask about another user's Jenkins tokens.
    for (const char* user : {"alice", "bob", "root", "admin"}) {
        EXPECT_FALSE(starts_with(auth_as_root(user, planted.text), "ok")) << user;
    }
    const std::string asked =
        as(world->alice, [&](sd_bus* bus) { return authenticate_raw(bus, "bob", planted.text); });
    EXPECT_TRUE(contains(asked, "AccessDenied")) << asked;
    EXPECT_FALSE(logs_in("bob", planted.text));
}

// Promise: an admin's hostile entries are refused whole (all or none),
// origin_id is 1-64 of [A-Za-z0-9._-], jenkins_hash 64 lowercase hex,
// times 0 to the year 9999; names that cannot be kept are replaced, so no
// control or bidi character gets into a stored name.
TEST_F(AttackJenkinsTest, HostileEntriesFromAnAdminAreRefusedWhole) {
    world->start_daemon();
    const JenkinsToken secret = jenkins_token(7);
    const auto with = [&](std::vector<Item> extra) {
        Entry e = good_entry(7);
        e.insert(e.end(), extra.begin(), extra.end());
        return e;
    };
    const std::string upper = [&] {
        std::string s = secret.sha256;
        for (char& c : s) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        return s;
    }();
    const std::vector<std::vector<Entry>> bad_calls{
        {{str(ipc::key::kOriginId, "a\x1b[31mb"), str(ipc::key::kJenkinsHash, secret.sha256)}},
        // NOLINTNEXTLINE(misc-misleading-bidirectional)
        {{str(ipc::key::kOriginId, "a\u202eb"), str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, "a/../b"), str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, "a:b"), str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, std::string(65, 'a')),
          str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, std::string(1 << 20, 'a')),
          str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, ""), str(ipc::key::kJenkinsHash, secret.sha256)}},
        {{str(ipc::key::kOriginId, uuid_of(7))}}, // no hash
        {{str(ipc::key::kOriginId, uuid_of(7)), str(ipc::key::kJenkinsHash, upper)}},
        {{str(ipc::key::kOriginId, uuid_of(7)),
          str(ipc::key::kJenkinsHash, secret.sha256.substr(1))}},
        {{str(ipc::key::kOriginId, uuid_of(7)),
          str(ipc::key::kJenkinsHash, "$jenkins-sha256$" + secret.sha256)}},
        {{str(ipc::key::kOriginId, uuid_of(7)),
          str(ipc::key::kJenkinsHash, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA")}},
        {{str(ipc::key::kOriginId, uuid_of(7)), str(ipc::key::kJenkinsHash, secret.sha256 + "0")}},
        {with({i64(ipc::key::kExpires, -1)})},
        {with({i64(ipc::key::kExpires, std::int64_t{1} << 40)})},
        {with({i64(ipc::key::kCreated, -5)})},
        {with({i64(ipc::key::kLastUsed, INT64_MAX)})},
        {with({str(ipc::key::kExpires, "never")})},
        {with({str(ipc::key::kUseCount, "1")})},
        {with({i64(ipc::key::kUseCount, -1)})},
        {{str(ipc::key::kOriginId, uuid_of(7)), u64(ipc::key::kJenkinsHash, 1)}},
        {with({str(ipc::key::kServices, "sshd")})},
        // One good entry, then a bad one: none of the call is imported.
        {good_entry(7), {str(ipc::key::kOriginId, "x\ny"), str(ipc::key::kJenkinsHash, "00")}},
    };
    for (std::size_t i = 0; i < bad_calls.size(); ++i) {
        const std::string answer = import_as(world->admin, "bob", bad_calls[i]);
        EXPECT_TRUE(starts_with(answer, "error ")) << "call " << i << ": " << answer;
        EXPECT_FALSE(contains(answer, "\x1b")) << "call " << i;
    }
    EXPECT_FALSE(starts_with(auth_as_root("bob", secret.text), "ok")) << world->daemon_log();

    // Names: control, bidi and 256 KiB; duplicate uuids in one call.
    const std::string answer = import_as(world->admin, "bob",
                                         {good_entry(8, "evil\x1b]0;pwned\x07name"),
                                          // NOLINTNEXTLINE(misc-misleading-bidirectional)
                                          good_entry(9, "admin\u202etxt.exe"),
                                          good_entry(10, std::string(std::size_t{1} << 18, 'n')),
                                          good_entry(11, "same"), good_entry(11, "same again")});
    ASSERT_TRUE(starts_with(answer, "ok ")) << answer;
    EXPECT_FALSE(contains(answer, "\x1b")) << answer;
    // NOLINTNEXTLINE(misc-misleading-bidirectional)
    EXPECT_FALSE(contains(answer, "\u202e")) << answer;
    EXPECT_FALSE(contains(answer, std::string(1000, 'n'))) << "a 256 KiB name was kept";
    // The duplicate is imported once.
    EXPECT_EQ(answer.find("result=imported", answer.find("origin_id=" + uuid_of(11))),
              answer.rfind("result=imported"))
        << answer;
    for (const unsigned seed : {8U, 9U, 10U, 11U}) {
        EXPECT_TRUE(starts_with(auth_as_root("bob", jenkins_token(seed).text), "ok")) << seed;
    }
    // The log has neither the secrets nor the hashes.
    const std::string log = world->daemon_log();
    for (const unsigned seed : {7U, 8U, 9U, 10U, 11U}) {
        EXPECT_FALSE(contains(log, jenkins_token(seed).text.substr(2)));
        EXPECT_FALSE(contains(log, jenkins_token(seed).sha256));
    }
}

// Promise: same expiry and uid checks as native tokens. An imported token
// already expired never works; one for a user whose uid changed (deleted
// and re-created) stops working.
TEST_F(AttackJenkinsTest, ExpiredAndGhostImportedTokensFail) {
    world->start_daemon();
    const std::int64_t now = std::time(nullptr);
    Entry expired = good_entry(20);
    expired.push_back(i64(ipc::key::kExpires, now - 60));
    ASSERT_TRUE(starts_with(import_as(world->root, "alice", {expired, good_entry(21)}), "ok "));
    EXPECT_FALSE(starts_with(auth_as_root("alice", jenkins_token(20).text), "ok"));
    EXPECT_FALSE(logs_in("alice", jenkins_token(20).text));
    ASSERT_TRUE(logs_in("alice", jenkins_token(21).text)) << world->daemon_log();
    // The 32 hex alone (legacy shape) works too, by design; not for bob.
    EXPECT_FALSE(logs_in("bob", jenkins_token(21).text));
    EXPECT_FALSE(logs_in("bob", jenkins_token(21).text.substr(2)));

    world->change_uid("alice", 61077);
    EXPECT_FALSE(logs_in("alice", jenkins_token(21).text)) << world->daemon_log();
    EXPECT_FALSE(starts_with(auth_as_root("alice", jenkins_token(21).text), "ok"));
}

// Promise: two first uses at once (both re-hash) both succeed or fail
// cleanly, and the token keeps working after (one re-hash wins).
TEST_F(AttackJenkinsTest, ConcurrentFirstUsesKeepTheTokenWorking) {
    world->start_daemon();
    for (unsigned round = 0; round < 3; ++round) {
        const unsigned seed = 40 + round;
        ASSERT_TRUE(starts_with(import_as(world->root, "alice", {good_entry(seed)}), "ok "));
        std::vector<int> pipes;
        std::vector<pid_t> children;
        for (int k = 0; k < 6; ++k) {
            int fds[2];
            ASSERT_EQ(::pipe(fds), 0);
            const pid_t child = ::fork();
            if (child == 0) {
                ::close(fds[0]);
                // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread
                ::setenv("DBUS_SYSTEM_BUS_ADDRESS", world->bus_address().c_str(), 1);
                RawBus bus;
                const std::string out =
                    authenticate_raw(bus.get(), "alice", jenkins_token(seed).text);
                const ssize_t n = ::write(fds[1], out.data(), out.size());
                ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
            }
            ::close(fds[1]);
            pipes.push_back(fds[0]);
            children.push_back(child);
        }
        std::set<std::string> ids;
        for (std::size_t k = 0; k < children.size(); ++k) {
            std::string out;
            std::array<char, 4096> buf{};
            for (ssize_t n = 0; (n = ::read(pipes[k], buf.data(), buf.size())) > 0;) {
                out.append(buf.data(), static_cast<std::size_t>(n));
            }
            ::close(pipes[k]);
            int status = 0;
            ::waitpid(children[k], &status, 0);
            EXPECT_TRUE(starts_with(out, "ok ")) << out << world->daemon_log();
            ids.insert(out);
        }
        EXPECT_EQ(ids.size(), 1U);
        EXPECT_TRUE(starts_with(auth_as_root("alice", jenkins_token(seed).text), "ok "))
            << world->daemon_log();
        EXPECT_TRUE(logs_in("alice", jenkins_token(seed).text));
        EXPECT_FALSE(logs_in("alice", jenkins_token(seed + 100).text));
    }
}

// Promise: Jenkins-shaped guesses are throttled like native ones, for a
// user with imported tokens and for one without (whose guesses cost the
// dummy hash only): after throttle_max_failures, the right token fails too.
TEST_F(AttackJenkinsTest, JenkinsShapedGuessesAreThrottled) {
    world->set_config("throttle_max_failures = 3\nthrottle_window = 10m\n");
    world->start_daemon();
    ASSERT_TRUE(starts_with(import_as(world->root, "alice", {good_entry(90)}), "ok "));
    const CallResult created = world->call(world->root, {"create", "bob", "native", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string bobs = created.fields.at(1);
    for (unsigned g = 0; g < 3; ++g) {
        EXPECT_FALSE(logs_in("alice", jenkins_token(9000 + g).text));
        EXPECT_FALSE(logs_in("bob", jenkins_token(9100 + g).text.substr(2)));
    }
    const ProcessResult alice =
        world->pamtester(world->root, "jenkins", "alice", jenkins_token(90).text + "\n");
    EXPECT_FALSE(login_succeeded(alice)) << "Jenkins-shaped guesses were not throttled";
    const ProcessResult bob = world->pamtester(world->root, "jenkins", "bob", bobs + "\n");
    EXPECT_FALSE(login_succeeded(bob))
        << "Jenkins-shaped guesses for a user without imported tokens were not throttled";
}

// Promise (README "Moving from Jenkins"): a Jenkins-shaped guess is checked
// against every imported token of the user, "SHA-256 compared in constant
// time, plus one Argon2id verify as for a token that does not exist": what
// a guess costs must not tell a guesser how many of a user's imported tokens
// have been used, nor let one guess cost many Argon2id verifies.
TEST_F(AttackJenkinsTest, AGuessCostsTheSameForUsersWithAndWithoutUsedImportedTokens) {
    if (TestWorld::daemon_under_valgrind() || TestWorld::sanitized()) {
        GTEST_SKIP() << "CPU ratios mean nothing under valgrind or ASan";
    }
    // A real-sized Argon2id (as a careful admin sets) and no throttle in the
    // way of the measurement.
    world->set_config("argon2_memory_kib = 4096\nthrottle_max_failures = 1000\n");
    world->start_daemon();
    constexpr unsigned kTokens = 48;
    std::vector<Entry> entries;
    for (unsigned i = 0; i < kTokens; ++i) {
        entries.push_back(good_entry(100 + i, "t" + std::to_string(i)));
    }
    ASSERT_TRUE(starts_with(import_as(world->root, "bob", entries), "ok "));
    // Bob uses each once (re-hashed to Argon2id).
    const std::string used = as(world->root, [&](sd_bus* bus) {
        std::string out;
        for (unsigned i = 0; i < kTokens; ++i) {
            if (!starts_with(authenticate_raw(bus, "bob", jenkins_token(100 + i).text), "ok ")) {
                out += "failed " + std::to_string(i) + "\n";
            }
        }
        return out;
    });
    ASSERT_EQ(used, "") << world->daemon_log();

    const pid_t daemon = world->daemon_pid();
    double cpu_bob = 0;
    double cpu_alice = 0;
    constexpr int kRounds = 6;
    constexpr int kGuesses = 15;
    for (int round = 0; round < kRounds; ++round) {
        for (const std::string user : {"bob", "alice"}) {
            const double before = process_cpu_ms(daemon);
            const std::string out = as(world->root, [&](sd_bus* bus) {
                std::string answers;
                for (int g = 0; g < kGuesses; ++g) {
                    const std::string a = authenticate_raw(
                        bus, user, jenkins_token(5000 + static_cast<unsigned>(g)).text);
                    answers += a.substr(0, a.find(':')) + "\n";
                }
                return answers;
            });
            (user == "bob" ? cpu_bob : cpu_alice) += process_cpu_ms(daemon) - before;
            EXPECT_FALSE(contains(out, "ok ")) << out;
        }
    }
    static_cast<void>(
        std::fprintf(stderr,
                     "daemon CPU for %d Jenkins-shaped guesses: bob (%u used imported) %.0f ms, "
                     "alice (none) %.0f ms\n",
                     kRounds * kGuesses, kTokens, cpu_bob, cpu_alice));
    // Equal work would give about 1; 48 Argon2id verifies per guess about 48.
    EXPECT_LT(cpu_bob, 4 * std::max(cpu_alice, 50.0))
        << "each guess against bob cost one Argon2id verify per used imported token";
}

// Promise (README "Token policy"): max_lifetime and max_idle hold for every
// token; an update cannot extend a token beyond max_lifetime counted from
// its making. Dates in JENKINS_HOME are written by whoever owns it: a
// creationDate or lastUseDate in the future must not put an imported token
// beyond the policy (its owner extending it to ten years, or it never
// going idle).
TEST_F(AttackJenkinsTest, FutureJenkinsDatesDoNotEscapeThePolicy) {
    world->set_config("max_lifetime = 30d\nmax_idle = 3s\n");
    world->start_daemon();
    write_user("bob_1", "bob", 80, "future", "2090-01-01 00:00:00.0 UTC");
    std::ofstream(jenkins_home() / "users" / "bob_1" / "apiTokenStats.xml")
        << "<?xml version='1.1' encoding='UTF-8'?>\n<jenkins.security.apitoken.ApiTokenStats>"
           "<tokenStats><jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats><tokenUuid>" +
               uuid_of(80) +
               "</tokenUuid><lastUseDate>2090-01-01 00:00:00.0 UTC</lastUseDate>"
               "<useCounter>1</useCounter>"
               "</jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats></tokenStats>"
               "</jenkins.security.apitoken.ApiTokenStats>";
    const ProcessResult r = import_jenkins_as_root();
    ASSERT_TRUE(contains(r.out, "imported")) << r.out << r.err;
    const ProcessResult listed = world->run_as(world->bob, {APITOKEN_CTL, "list", "--json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.out << listed.err;
    const std::size_t at = listed.out.find("\"id\"");
    ASSERT_NE(at, std::string::npos) << listed.out;
    const std::size_t open = listed.out.find('"', listed.out.find(':', at)) + 1;
    const std::string id = listed.out.substr(open, listed.out.find('"', open) - open);
    // Bob, a plain user, extends his imported token to ten years.
    const ProcessResult extended =
        world->run_as(world->bob, {APITOKEN_CTL, "update", id, "--expires=3650d"});
    EXPECT_NE(extended.exit_code, 0) << "an imported token with a future creationDate was "
                                        "extended beyond max_lifetime: "
                                     << extended.out << extended.err;
    // Not used for longer than max_idle (the lastUseDate is not a use here).
    std::this_thread::sleep_for(5s);
    EXPECT_FALSE(logs_in("bob", jenkins_token(80).text))
        << "an imported token with a future lastUseDate never goes idle";
}

// ---------------------------------------------------------------------------
// apitokenctl import-jenkins run by root on a JENKINS_HOME that others
// (the jenkins account, anyone who can sign up in Jenkins) write.

// Promise: hostile files are skipped whole, symbolic links in users/ are
// not followed, nothing hangs, and the output escapes what it shows.
TEST_F(AttackJenkinsTest, HostileJenkinsHomeDoesNotHangOrImportThroughLinks) {
    world->start_daemon();
    const fs::path users = jenkins_home() / "users";
    fs::create_directories(users);
    // A directory elsewhere with a valid config for bob, reached by links.
    const fs::path elsewhere = world->dir() / "elsewhere" / "bob_1";
    fs::create_directories(elsewhere);
    std::ofstream(elsewhere / "config.xml") << user_config("bob", 60, "linked");
    fs::create_directory_symlink(elsewhere, users / "bob_1");
    fs::create_directories(users / "bob_2");
    fs::create_symlink(elsewhere / "config.xml", users / "bob_2" / "config.xml");
    // /etc/shadow where a config.xml belongs.
    fs::create_directories(users / "shadow_1");
    fs::create_symlink("/etc/shadow", users / "shadow_1" / "config.xml");
    // A FIFO config.xml and apiTokenStats.xml.
    fs::create_directories(users / "fifo_1");
    ASSERT_EQ(::mkfifo((users / "fifo_1" / "config.xml").c_str(), 0600), 0);
    write_user("alice_1", "alice", 61,
               // NOLINTNEXTLINE(misc-misleading-bidirectional)
               "ci\u009b2J\u202etxt");
    // A FIFO for statistics: reported, and its user skipped whole.
    write_user("bob_3", "bob", 63);
    ASSERT_EQ(::mkfifo((users / "bob_3" / "apiTokenStats.xml").c_str(), 0600), 0);
    // A name with a terminal escape in a user id, and deep nesting.
    write_user("esc_1", "bob\u009b2J", 62);
    {
        std::string deep = "<?xml version='1.0'?><user><id>bob</id>";
        for (int i = 0; i < 100000; ++i) {
            deep += "<a>";
        }
        fs::create_directories(users / "deep_1");
        std::ofstream(users / "deep_1" / "config.xml") << deep;
    }
    // users.xml naming a directory outside.
    std::ofstream(users / "users.xml")
        << "<?xml version='1.1' encoding='UTF-8'?><hudson.model.UserIdMapper><version>1</version>"
           "<idToDirectoryNameMap class=\"concurrent-hash-map\"><entry><string>bob</string>"
           "<string>../../elsewhere/bob_1</string></entry></idToDirectoryNameMap>"
           "</hudson.model.UserIdMapper>";

    const auto start = std::chrono::steady_clock::now();
    const ProcessResult r = import_jenkins_as_root();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 50s) << "import-jenkins hung";
    EXPECT_FALSE(contains(r.out + r.err, "\u009b")) << r.out << r.err;
    // NOLINTNEXTLINE(misc-misleading-bidirectional)
    EXPECT_FALSE(contains(r.out + r.err, "\u202e")) << r.out << r.err;
    EXPECT_FALSE(contains(r.out + r.err, "root:")) << "shadow content shown: " << r.err;
    // Only alice's own token came over.
    EXPECT_TRUE(logs_in("alice", jenkins_token(61).text)) << r.out << r.err;
    for (const unsigned seed : {60U, 62U, 63U}) {
        EXPECT_FALSE(logs_in("bob", jenkins_token(seed).text)) << seed << r.out << r.err;
    }
    EXPECT_TRUE(contains(r.out + r.err, "bob_3/apiTokenStats.xml: not a regular file; the user "
                                        "is skipped"))
        << r.out << r.err;
}

// Promise (README "Security": a user can never get a token for another
// user; "Moving from Jenkins": tokens go to the local user of the same
// name). Whoever can name a Jenkins user (self sign-up, or the jenkins
// account that owns JENKINS_HOME) must not get a token for root or a
// system account out of root's import-jenkins: those names are not the
// same people in Jenkins and on the host. Only an explicit --user-map line
// may send tokens there.
TEST_F(AttackJenkinsTest, AJenkinsUserNamedRootGetsNoTokenForRoot) {
    world->start_daemon();
    world->add_user("daemon", 1);
    write_user("root_1", "root", 70);
    write_user("daemon_1", "daemon", 71);
    write_user("alice_1", "alice", 72);
    const ProcessResult r = import_jenkins_as_root();
    EXPECT_TRUE(logs_in("alice", jenkins_token(72).text)) << r.out << r.err;
    EXPECT_FALSE(logs_in("root", jenkins_token(70).text))
        << "a Jenkins user named root got a token that logs in as root\n"
        << r.out << r.err;
    EXPECT_FALSE(logs_in("daemon", jenkins_token(71).text)) << r.out << r.err;
    EXPECT_FALSE(starts_with(auth_as_root("root", jenkins_token(70).text), "ok"));

    // Mapped explicitly by root, it is root's decision.
    const fs::path map = world->dir() / "user-map";
    std::ofstream(map) << "root root\n";
    const ProcessResult mapped = import_jenkins_as_root({"--user-map=" + map.string()});
    EXPECT_TRUE(logs_in("root", jenkins_token(70).text)) << mapped.out << mapped.err;
}

} // namespace
} // namespace apitoken::testing
