// Token policy at authentication time, through the real path: pamtester and
// pam_apitoken.so in real libpam (pam_wrapper), the private bus, apitokend
// and its LMDB store. Source networks (PAM_RHOST, set by pam_wrapper's
// pam_set_items from the environment), use limits (also across a kill -9),
// rotation with and without grace, apitokend.conf's policy applied to
// existing tokens at their next use (and at creation), the "new source" and
// "expires soon" events, and a store of the previous schema.
#include "store/store_keys.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"
#include "tests/integration/world_test.hpp"
#include "tests/support/record_fixture.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>
#include <string_view>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// pam_strerror()'s text for PAM_AUTH_ERR, as pamtester prints it.
constexpr const char* kAuthErr = "Authentication failure";

// How long to wait for what the daemon writes: a refusal's line is written
// before the answer, so it is there at once; usage and its events come in
// batches (every second here). Long enough for a busy machine (and the daemon
// under valgrind), short enough that a missing line fails within the test's
// time limit.
constexpr auto kLineDeadline = 10s;
constexpr auto kEventDeadline = 30s;
// The rotation test waits this long, at most, for the grace period to end.
constexpr auto kGraceDeadline = 60s;

bool succeeded(const ProcessResult& r) {
    return r.exit_code == 0 && r.out.find("successfully authenticated") != std::string::npos;
}

bool auth_failed(const ProcessResult& r) {
    return r.exit_code != 0 && r.err.find(kAuthErr) != std::string::npos;
}

std::string describe(const ProcessResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool is_token_line(const std::string& text) {
    return std::regex_match(text, std::regex("atk_[0-9a-f]{52}\n"));
}

std::string id_of(const std::string& token) {
    return token.substr(4, 12);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The value of `key="..."` in an audit line ("" when it has none). Values
// are quoted and escaped by the daemon; the ones tests look for (ids,
// addresses, service names) hold no quote.
std::string field(const std::string& line, const std::string& key) {
    const std::string start = " " + key + "=\"";
    const std::size_t at = line.find(start);
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t begin = at + start.size();
    const std::size_t end = line.find('"', begin);
    return end == std::string::npos ? std::string() : line.substr(begin, end - begin);
}

// An audit line of `event` ("token authentication failed", ...), as the
// plain log writes it ("apitokend: EVENT key="value" ...").
bool is_event(const std::string& line, const std::string& event) {
    return contains(line, "apitokend: " + event + " ");
}

class PolicyAuthTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        // pam_set_items sets PAM_RHOST from the environment (when there);
        // the PAM service name is what the daemon sees as the service.
        for (const char* name : {"sshd", "web", "imap"}) {
            world->write_pam_service(name, "auth required " APITOKEN_PAM_SET_ITEMS "\n"
                                           "auth required " APITOKEN_PAM_MODULE "\n");
        }
    }

    // Usage is written every second, so that tests see it soon; refusals
    // never throttle a source here (each test fails on purpose, often).
    static std::string config_with(const std::string& policy) {
        return "usage_flush_interval = 1s\nthrottle_max_failures = 1000\n" + policy;
    }

    void start(const std::string& policy = "") const {
        world->set_config(config_with(policy));
        world->start_daemon();
    }

    // A policy change: apitokend.conf rewritten, the daemon restarted.
    void restart(const std::string& policy) const {
        ASSERT_EQ(world->stop_daemon(), 0) << world->daemon_log();
        start(policy);
    }

    ProcessResult ctl(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args);
    }

    // apitokenctl create as alice; the new token ("" when refused).
    std::string create(std::vector<std::string> args) const {
        args.insert(args.begin(), "create");
        const ProcessResult r = ctl(world->alice, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(is_token_line(r.out)) << r.out;
        return is_token_line(r.out) ? r.out.substr(0, r.out.size() - 1) : std::string();
    }

    // One login of alice through a root service (which may name the remote
    // host); no rhost when `rhost` is nullopt.
    ProcessResult login(const std::string& token, const std::optional<std::string>& rhost,
                        const std::string& service = "sshd") const {
        Environment env;
        if (rhost) {
            env.push_back("PAM_RHOST=" + *rhost);
        }
        return world->pamtester(world->root, service, "alice", token + "\n", env);
    }

    ProcessResult login_from(const std::string& token, const std::string& rhost = "192.0.2.10",
                             const std::string& service = "sshd") const {
        return login(token, rhost, service);
    }

    // alice asking for herself (pamtester as alice): the daemon's
    // self-authentication. She names an rhost, which she may not.
    ProcessResult login_as_alice(const std::string& token, const std::string& rhost) const {
        return world->pamtester(world->alice, "sshd", "alice", token + "\n",
                                {"PAM_RHOST=" + rhost});
    }

    json show(const std::string& id) const {
        const ProcessResult r = ctl(world->alice, {"show", id, "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 ? json::parse(r.out) : json::object();
    }

    // show --json once the store holds `uses` uses of the token (usage is
    // written in batches): the daemon has handled every earlier use.
    json show_after_uses(const std::string& id, std::uint64_t uses) const {
        const auto deadline = std::chrono::steady_clock::now() + kEventDeadline;
        json shown = show(id);
        while (shown.value("use_count", std::uint64_t{0}) < uses &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
            shown = show(id);
        }
        EXPECT_GE(shown.value("use_count", std::uint64_t{0}), uses) << shown.dump();
        return shown;
    }

    // The daemon's audit lines of `event` about token `id` that `also`
    // holds (every line, when `id` is empty).
    std::vector<std::string>
    events(const std::string& event, const std::string& id,
           const std::function<bool(const std::string&)>& also = nullptr) const {
        std::vector<std::string> found;
        for (const auto& line : lines_of(world->daemon_log())) {
            if (is_event(line, event) && (id.empty() || field(line, "token_id") == id) &&
                (!also || also(line))) {
                found.push_back(line);
            }
        }
        return found;
    }

    // Waits (up to `within`) for at least `count` such lines.
    std::vector<std::string>
    wait_for_events(const std::string& event, const std::string& id, std::size_t count,
                    const std::function<bool(const std::string&)>& also = nullptr,
                    std::chrono::seconds within = kEventDeadline) const {
        const auto deadline = std::chrono::steady_clock::now() + within;
        std::vector<std::string> found = events(event, id, also);
        while (found.size() < count && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
            found = events(event, id, also);
        }
        return found;
    }

    // The refusal of token `id` whose reason holds `reason_words` and that
    // `also` holds: logged before the daemon answers, but waited for all the
    // same (the log is a file another process writes).
    std::string refusal(const std::string& id, const std::string& reason_words,
                        const std::function<bool(const std::string&)>& also = nullptr) const {
        const auto lines = wait_for_events(
            "token authentication failed", id, 1,
            [&](const std::string& line) {
                return contains(field(line, "reason"), reason_words) && (!also || also(line));
            },
            kLineDeadline);
        return lines.empty() ? std::string() : lines.front();
    }

    std::string log_about(const std::string& id) const {
        std::string out;
        for (const auto& line : lines_of(world->daemon_log())) {
            if (contains(line, id)) {
                out += line + "\n";
            }
        }
        return out.empty() ? world->daemon_log() : out;
    }
};

// --- 1. Source networks -------------------------------------------------

struct BoundCase {
    std::string name;
    std::string network;
    std::vector<std::string> inside;
    std::vector<std::string> outside;
};

// gtest names a failing case by this, not by its bytes.
void PrintTo(const BoundCase& c, std::ostream* out) {
    *out << c.name << " (" << c.network << ")";
}

class BoundTokenTest : public PolicyAuthTest, public ::testing::WithParamInterface<BoundCase> {};

TEST_P(BoundTokenTest, WorksOnlyFromInsideItsNetworkNamedByAService) {
    const BoundCase& c = GetParam();
    start();
    const std::string token = create({"bound", "--from=" + c.network});
    const std::string id = id_of(token);
    ASSERT_FALSE(token.empty());

    for (const auto& rhost : c.inside) {
        const ProcessResult r = login_from(token, rhost);
        EXPECT_TRUE(succeeded(r)) << rhost << " is inside " << c.network << "\n"
                                  << describe(r) << log_about(id);
    }
    // A service in apitoken-auth (not root) names the rhost too.
    const ProcessResult service_user = world->pamtester(world->www, "sshd", "alice", token + "\n",
                                                        {"PAM_RHOST=" + c.inside.front()});
    EXPECT_TRUE(succeeded(service_user)) << "www is in apitoken-auth\n" << describe(service_user);
    // The rhost reached the daemon (pam_set_items set it): the success names it.
    EXPECT_FALSE(
        events("token authentication succeeded", id,
               [&](const std::string& line) { return field(line, "rhost") == c.inside.front(); })
            .empty())
        << log_about(id);

    const auto refused_for_network = [&](const std::string& what,
                                         const std::function<bool(const std::string&)>& which) {
        const std::string line = refusal(id, "source network", which);
        EXPECT_FALSE(line.empty()) << what << ": no \"token authentication failed\" line with "
                                   << "token_id=\"" << id << "\" and a reason naming the source "
                                   << "network\n"
                                   << log_about(id);
    };
    for (const auto& rhost : c.outside) {
        const ProcessResult r = login_from(token, rhost);
        EXPECT_TRUE(auth_failed(r)) << rhost << " is outside " << c.network << "\n" << describe(r);
        refused_for_network(rhost, [&](const std::string& line) {
            return field(line, "rhost") == rhost && field(line, "caller_uid") == "0";
        });
    }

    const ProcessResult unnamed = login(token, std::nullopt);
    EXPECT_TRUE(auth_failed(unnamed)) << "no rhost: a bound token fails closed\n"
                                      << describe(unnamed);
    refused_for_network("no rhost", [](const std::string& line) {
        return !contains(line, " rhost=") && field(line, "caller_uid") == "0";
    });

    const ProcessResult host_name = login_from(token, "example.com");
    EXPECT_TRUE(auth_failed(host_name)) << "a host name never matches\n" << describe(host_name);
    refused_for_network("example.com", [](const std::string& line) {
        return field(line, "rhost") == "example.com";
    });

    // alice herself names an address inside: she may not name the rhost,
    // so the daemon has none for her.
    const ProcessResult self = login_as_alice(token, c.inside.front());
    EXPECT_TRUE(auth_failed(self)) << "the user asking for herself has no rhost\n"
                                   << describe(self) << log_about(id);
    refused_for_network("alice for herself", [&](const std::string& line) {
        return field(line, "caller_uid") == std::to_string(world->alice.uid);
    });

    const ProcessResult again = login_from(token, c.inside.back());
    EXPECT_TRUE(succeeded(again)) << "refusals change nothing for the right network\n"
                                  << describe(again);
}

INSTANTIATE_TEST_SUITE_P(
    Networks, BoundTokenTest,
    ::testing::Values(BoundCase{"IPv4Slash24",
                                "192.0.2.0/24",
                                {"192.0.2.7", "192.0.2.0", "::ffff:192.0.2.9", "192.0.2.255"},
                                {"192.0.3.7", "192.0.1.255", "10.0.0.1", "2001:db8::1"}},
                      BoundCase{"IPv6Slash64",
                                "2001:db8:1:2::/64",
                                {"2001:db8:1:2::5", "2001:db8:1:2:ffff:ffff:ffff:ffff",
                                 "2001:DB8:1:2:0:0:0:9"},
                                {"2001:db8:1:3::5", "2001:db8:1:1:ffff:ffff:ffff:ffff",
                                 "2001:db8::1", "192.0.2.7"}}),
    [](const auto& param_info) { return param_info.param.name; });

// --- 2. Use limits --------------------------------------------------------

TEST_F(PolicyAuthTest, OneTimeTokenWorksOnceThenNamesTheUseLimit) {
    start();
    const std::string token = create({"once", "--max-uses=1"});
    const std::string id = id_of(token);
    const ProcessResult first = login_from(token);
    EXPECT_TRUE(succeeded(first)) << describe(first);
    const ProcessResult second = login_from(token);
    EXPECT_TRUE(auth_failed(second)) << "a one-time token works once\n" << describe(second);
    EXPECT_FALSE(refusal(id, "use limit").empty()) << log_about(id);
    EXPECT_TRUE(auth_failed(login_from(token, "198.51.100.4", "web")))
        << "from anywhere, through any service";
}

// The use is on disk before the success is answered: a kill -9 right after
// cannot give the token a second use.
TEST_F(PolicyAuthTest, OneTimeTokenUsedOnceStaysUsedAcrossAKill9) {
    start();
    const std::string once = create({"once", "--max-uses=1"});
    const std::string plain = create({"plain"});
    const ProcessResult first = login_from(once);
    ASSERT_TRUE(succeeded(first)) << describe(first);
    world->kill_daemon();
    world->start_daemon();
    const ProcessResult next = login_from(once);
    EXPECT_TRUE(auth_failed(next)) << "used once before the kill -9\n"
                                   << describe(next) << log_about(id_of(once));
    EXPECT_FALSE(refusal(id_of(once), "use limit").empty()) << log_about(id_of(once));
    EXPECT_EQ(show(id_of(once)).value("use_count", std::uint64_t{0}), 1U) << "the use is on disk";
    EXPECT_TRUE(succeeded(login_from(plain))) << "the restarted daemon works";
}

TEST_F(PolicyAuthTest, ThreeUseTokenSucceedsExactlyThreeTimesOutOfFive) {
    start();
    const std::string token = create({"three", "--max-uses=3"});
    std::vector<bool> results;
    results.reserve(5);
    for (int i = 0; i < 5; ++i) {
        results.push_back(succeeded(login_from(token, "192.0.2." + std::to_string(20 + i))));
    }
    EXPECT_EQ(results, (std::vector<bool>{true, true, true, false, false}));
    EXPECT_FALSE(refusal(id_of(token), "use limit").empty()) << log_about(id_of(token));
    const json shown = show_after_uses(id_of(token), 3);
    EXPECT_EQ(shown.value("use_count", std::uint64_t{0}), 3U) << shown.dump();
    EXPECT_EQ(shown.value("max_uses", std::uint64_t{0}), 3U) << shown.dump();
}

// --- 3. Rotation ----------------------------------------------------------

TEST_F(PolicyAuthTest, RotationWithGraceKeepsTheOldTokenUntilTheGraceEnds) {
    start();
    const std::string old_token = create({"rotating", "--service=sshd"});
    // The grace period ends 8 s after the daemon rotated, in whole seconds:
    // more than 7 s after `before`. A login answered before then is inside it.
    const auto before = std::chrono::system_clock::now();
    const auto surely_in_grace = [&] { return std::chrono::system_clock::now() - before < 7s; };
    const ProcessResult r = ctl(world->alice, {"rotate", id_of(old_token), "--grace=8s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(is_token_line(r.out)) << r.out;
    const std::string new_token = r.out.substr(0, r.out.size() - 1);

    const ProcessResult during = login_from(old_token);
    if (surely_in_grace()) {
        EXPECT_TRUE(succeeded(during)) << "the old token in its grace period\n" << describe(during);
    } else { // the machine is too busy to tell: what follows still checks the end
        std::cerr << "note: the old token could not be checked within its grace period\n";
    }
    EXPECT_TRUE(succeeded(login_from(new_token))) << "the new token during the grace period";

    // Then the old token fails, within a deadline a busy machine cannot miss.
    const auto deadline = std::chrono::steady_clock::now() + kGraceDeadline;
    ProcessResult old_login = login_from(old_token);
    while (succeeded(old_login) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(250ms);
        old_login = login_from(old_token);
    }
    EXPECT_FALSE(surely_in_grace()) << "the old token stopped before its grace period ended\n"
                                    << log_about(id_of(old_token));
    EXPECT_TRUE(auth_failed(old_login)) << "the old token still works after its grace period\n"
                                        << describe(old_login) << log_about(id_of(old_token));
    EXPECT_TRUE(succeeded(login_from(new_token))) << "the new token keeps working";
    EXPECT_TRUE(auth_failed(login_from(old_token))) << "and the old one stays refused";
}

TEST_F(PolicyAuthTest, RotationWithoutGraceStopsTheOldTokenAtOnce) {
    start();
    const std::string old_token = create({"rotating"});
    ASSERT_TRUE(succeeded(login_from(old_token)));
    const ProcessResult r = ctl(world->alice, {"rotate", id_of(old_token)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(is_token_line(r.out)) << r.out;
    const std::string new_token = r.out.substr(0, r.out.size() - 1);
    const ProcessResult old_login = login_from(old_token);
    EXPECT_TRUE(auth_failed(old_login)) << describe(old_login);
    EXPECT_TRUE(succeeded(login_from(new_token)));
}

// --- 4. apitokend.conf's policy, at the next use and at creation ---------

TEST_F(PolicyAuthTest, RequireExpiryStopsATokenThatNeverExpiresAtItsNextUse) {
    start();
    const std::string forever = create({"forever", "--expires=never"});
    const std::string expiring = create({"expiring", "--expires=30d"});
    ASSERT_TRUE(succeeded(login_from(forever))) << "before the policy";
    restart("require_expiry = yes\ndefault_lifetime = 30d\n");
    EXPECT_TRUE(auth_failed(login_from(forever))) << log_about(id_of(forever));
    EXPECT_FALSE(refusal(id_of(forever), "require_expiry").empty()) << log_about(id_of(forever));
    EXPECT_TRUE(succeeded(login_from(expiring))) << "a token that expires is fine";
}

// A token older than max_lifetime (it never expires; its age passes the new
// maximum) stops at its next use.
TEST_F(PolicyAuthTest, MaxLifetimeStopsATokenOlderThanItAtItsNextUse) {
    start();
    const std::string token = create({"old", "--expires=never"});
    std::this_thread::sleep_for(3500ms); // older than 2 s, whatever the rounding
    restart("max_lifetime = 1h\n");
    ASSERT_TRUE(succeeded(login_from(token))) << "younger than this maximum";
    restart("max_lifetime = 2s\n");
    EXPECT_TRUE(auth_failed(login_from(token))) << log_about(id_of(token));
    EXPECT_FALSE(refusal(id_of(token), "max_lifetime").empty()) << log_about(id_of(token));
}

TEST_F(PolicyAuthTest, AllowedServicesStopsATokenForAnotherServiceAtItsNextUse) {
    start();
    const std::string token = create({"web-only", "--service=web"});
    ASSERT_TRUE(succeeded(login_from(token, "192.0.2.10", "web"))) << "before the policy";
    restart("allowed_services = web, imap\n");
    ASSERT_TRUE(succeeded(login_from(token, "192.0.2.10", "web"))) << "web is allowed";
    restart("allowed_services = imap\n");
    EXPECT_TRUE(auth_failed(login_from(token, "192.0.2.10", "web"))) << log_about(id_of(token));
    EXPECT_FALSE(refusal(id_of(token), "allowed_services").empty()) << log_about(id_of(token));
}

TEST_F(PolicyAuthTest, RequireServicesStopsATokenForAnyServiceAtItsNextUse) {
    start();
    const std::string any = create({"any"});
    const std::string scoped = create({"scoped", "--service=sshd"});
    ASSERT_TRUE(succeeded(login_from(any))) << "before the policy";
    restart("require_services = yes\n");
    EXPECT_TRUE(auth_failed(login_from(any))) << log_about(id_of(any));
    EXPECT_FALSE(refusal(id_of(any), "require_services").empty()) << log_about(id_of(any));
    EXPECT_TRUE(succeeded(login_from(scoped))) << "a token naming its services is fine";
}

// max_idle counts from the last use, or from the creation of a token never
// used.
TEST_F(PolicyAuthTest, MaxIdleStopsATokenUnusedForLongerAtItsNextUse) {
    start();
    const std::string used = create({"used"});
    restart("max_idle = 1h\n");
    ASSERT_TRUE(succeeded(login_from(used))) << "used well within max_idle";
    show_after_uses(id_of(used), 1);
    const std::string never_used = create({"never-used"});
    std::this_thread::sleep_for(3500ms); // idle for more than 2 s, whatever the rounding
    restart("max_idle = 2s\n");
    EXPECT_TRUE(auth_failed(login_from(never_used))) << log_about(id_of(never_used));
    EXPECT_FALSE(refusal(id_of(never_used), "max_idle").empty()) << log_about(id_of(never_used));
    EXPECT_TRUE(auth_failed(login_from(used))) << "last used more than 2 s ago";
    EXPECT_FALSE(refusal(id_of(used), "max_idle").empty()) << log_about(id_of(used));
}

// apitokenctl create refused with a message, nothing made; what the policy
// allows is made. (max_lifetime at creation: cli_test.cpp,
// ExpiryBeyondTheDaemonsMaximumIsRefused.)
class CreatePolicyTest : public PolicyAuthTest {
protected:
    // The message names the key of apitokend.conf that refused it.
    void expect_refused(const std::vector<std::string>& args, const std::string& key,
                        const std::string& why) const {
        std::vector<std::string> command{"create"};
        command.insert(command.end(), args.begin(), args.end());
        const ProcessResult r = ctl(world->alice, command);
        EXPECT_EQ(r.exit_code, 1) << why << ": " << describe(r);
        EXPECT_TRUE(r.out.empty()) << why << ": no token printed: " << r.out;
        EXPECT_TRUE(contains(r.err, key)) << why << ": the message names " << key << ": " << r.err;
    }

    std::vector<std::string> names() const {
        const ProcessResult r = ctl(world->alice, {"list", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> out;
        if (r.exit_code == 0) {
            const json listed = json::parse(r.out);
            for (const auto& t : listed.at("tokens")) {
                out.push_back(t.at("name"));
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

TEST_F(CreatePolicyTest, RequireExpiryRefusesNeverAndGivesTheDefaultLifetime) {
    start("require_expiry = yes\ndefault_lifetime = 30d\n");
    expect_refused({"forever", "--expires=never"}, "require_expiry", "never expires");
    const std::string token = create({"default"});
    EXPECT_FALSE(show(id_of(token)).at("expires").is_null()) << "default_lifetime applies";
    EXPECT_TRUE(succeeded(login_from(token)));
    EXPECT_EQ(names(), std::vector<std::string>{"default"});
}

TEST_F(CreatePolicyTest, AllowedServicesRefusesOtherServicesAndNone) {
    start("allowed_services = sshd imap\n");
    expect_refused({"none"}, "allowed_services", "no services");
    expect_refused({"other", "--service=web"}, "allowed_services", "web is not allowed");
    expect_refused({"mixed", "--service=sshd", "--service=web"}, "allowed_services",
                   "not a subset");
    const std::string token = create({"ok", "--service=sshd", "--service=imap"});
    EXPECT_TRUE(succeeded(login_from(token)));
    EXPECT_EQ(names(), std::vector<std::string>{"ok"});
}

TEST_F(CreatePolicyTest, RequireServicesRefusesATokenForAnyService) {
    start("require_services = yes\n");
    expect_refused({"any"}, "require_services", "no services");
    const std::string token = create({"scoped", "--service=sshd"});
    EXPECT_TRUE(succeeded(login_from(token)));
    EXPECT_EQ(names(), std::vector<std::string>{"scoped"});
}

// --- 5. Events ------------------------------------------------------------

TEST_F(PolicyAuthTest, FirstUseFromANewSourceIsLoggedOnce) {
    start();
    const std::string token = create({"watched"});
    const std::string id = id_of(token);
    const auto from = [&](const std::string& rhost, const std::string& service) {
        return [rhost, service](const std::string& line) {
            return field(line, "rhost") == rhost && field(line, "service") == service;
        };
    };
    const std::string kNewSource = "token used from a new source";

    ASSERT_TRUE(succeeded(login_from(token, "192.0.2.10", "sshd")));
    EXPECT_EQ(wait_for_events(kNewSource, id, 1, from("192.0.2.10", "sshd")).size(), 1U)
        << log_about(id);

    ASSERT_TRUE(succeeded(login_from(token, "192.0.2.10", "sshd")));
    show_after_uses(id, 2); // the second use is handled and written
    EXPECT_EQ(events(kNewSource, id).size(), 1U) << "the same source again\n" << log_about(id);

    ASSERT_TRUE(succeeded(login_from(token, "198.51.100.20", "sshd")));
    EXPECT_EQ(wait_for_events(kNewSource, id, 1, from("198.51.100.20", "sshd")).size(), 1U)
        << "another rhost\n"
        << log_about(id);
    ASSERT_TRUE(succeeded(login_from(token, "192.0.2.10", "imap")));
    EXPECT_EQ(wait_for_events(kNewSource, id, 1, from("192.0.2.10", "imap")).size(), 1U)
        << "another service\n"
        << log_about(id);
    show_after_uses(id, 4);
    EXPECT_EQ(events(kNewSource, id).size(), 3U) << log_about(id);
    for (const auto& line : events(kNewSource, id)) {
        EXPECT_TRUE(contains(line, "apitokend: " + kNewSource + " ")) << line;
    }
}

TEST_F(PolicyAuthTest, ExpiresSoonIsLoggedOnceAcrossUsesAndARestart) {
    start("expiry_warning = 7d\n");
    const std::string soon = create({"soon", "--expires=1d"});
    const std::string later = create({"later", "--expires=30d"});
    const std::string kExpiresSoon = "token expires soon";

    ASSERT_TRUE(succeeded(login_from(soon)));
    EXPECT_EQ(wait_for_events(kExpiresSoon, id_of(soon), 1).size(), 1U) << log_about(id_of(soon));
    ASSERT_TRUE(succeeded(login_from(soon)));
    ASSERT_TRUE(succeeded(login_from(later)));
    show_after_uses(id_of(soon), 2);
    show_after_uses(id_of(later), 1);
    restart("expiry_warning = 7d\n");
    ASSERT_TRUE(succeeded(login_from(soon)));
    show_after_uses(id_of(soon), 3);
    EXPECT_EQ(events(kExpiresSoon, id_of(soon)).size(), 1U) << log_about(id_of(soon));
    EXPECT_TRUE(events(kExpiresSoon, id_of(later)).empty()) << "30 days is outside the window\n"
                                                            << log_about(id_of(later));
}

// --- 6. A store of the previous schema ------------------------------------

// Changes an LMDB file behind TokenStore's back, in one write transaction.
bool change_raw_lmdb(const std::filesystem::path& dir, const std::function<int(MDB_txn*)>& change) {
    MDB_env* env = nullptr;
    if (mdb_env_create(&env) != 0) {
        return false;
    }
    MDB_txn* txn = nullptr;
    int rc = mdb_env_set_maxdbs(env, 8);
    rc = rc != 0 ? rc : mdb_env_open(env, dir.c_str(), 0, 0600);
    rc = rc != 0 ? rc : mdb_txn_begin(env, nullptr, 0, &txn);
    rc = rc != 0 ? rc : change(txn);
    rc = rc != 0 ? (txn != nullptr ? (mdb_txn_abort(txn), rc) : rc) : mdb_txn_commit(txn);
    mdb_env_close(env);
    return rc == 0;
}

// One value of an LMDB file, read behind TokenStore's back.
std::optional<std::string> raw_value(const std::filesystem::path& dir, const char* table,
                                     std::string_view key) {
    std::optional<std::string> found;
    const bool read = change_raw_lmdb(dir, [&](MDB_txn* txn) {
        MDB_dbi dbi = 0;
        if (const int rc = mdb_dbi_open(txn, table, 0, &dbi); rc != 0) {
            return rc == MDB_NOTFOUND ? 0 : rc;
        }
        MDB_val k{key.size(), const_cast<char*>(key.data())};
        MDB_val v{};
        if (mdb_get(txn, dbi, &k, &v) == 0) {
            found.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
        }
        return 0;
    });
    return read ? found : std::nullopt;
}

std::uint32_t raw_schema_version(const std::filesystem::path& dir) {
    return store::decode_u32(raw_value(dir, "meta", "schema_version").value_or("")).value_or(0);
}

// What a build of schema 2 left in `dir`: this build acting as schema 2,
// its records then written back in record format 1 and without the table
// schema 3 added (as tests/unit/token_store_test.cpp's make_old_store).
void write_schema_two_store(const std::filesystem::path& dir,
                            const std::vector<store::TokenRecord>& records) {
    store::StoreOptions old_build;
    old_build.state_dir = dir;
    old_build.schema_version = 2;
    old_build.initial_map_size = std::size_t{1} << 20U;
    {
        store::TokenStore old_store(old_build);
        old_store.create_batch(records);
    }
    ASSERT_TRUE(change_raw_lmdb(dir, [&](MDB_txn* txn) {
        MDB_dbi tokens = 0;
        int rc = mdb_dbi_open(txn, "tokens", 0, &tokens);
        for (const auto& record : records) {
            std::string bytes = format1_record_bytes(record);
            MDB_val key{store::TokenId::kBytes, const_cast<char*>(record.id.key().data())};
            MDB_val value{bytes.size(), bytes.data()};
            rc = rc != 0 ? rc : mdb_put(txn, tokens, &key, &value, 0);
        }
        MDB_dbi by_grace = 0;
        rc = rc != 0 ? rc : mdb_dbi_open(txn, "by_grace", 0, &by_grace);
        return rc != 0 ? rc : mdb_drop(txn, by_grace, 1);
    }));
}

struct MadeToken {
    store::TokenRecord record;
    std::string text;
};

MadeToken schema_two_token(const TestUser& owner, const std::string& name) {
    const store::GeneratedToken generated = store::generate_token();
    MadeToken made{{}, std::string(generated.text.view())};
    made.record.id = generated.id;
    made.record.user = owner.name;
    made.record.uid = owner.uid;
    made.record.name = name;
    made.record.created =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 1h;
    made.record.hash = store::hash_token(made.text, store::HashParams::defaults());
    return made;
}

TEST_F(PolicyAuthTest, StoreOfThePreviousSchemaAuthenticatesThroughTheDaemon) {
    MadeToken plain = schema_two_token(world->alice, "legacy");
    MadeToken web = schema_two_token(world->alice, "legacy-web");
    web.record.services = {"web"};
    web.record.expires = web.record.created + std::chrono::days{30};
    web.record.use_count = 3;
    web.record.last_used = web.record.created + 10min;
    web.record.last_service = "web";
    web.record.last_rhost = "192.0.2.1";
    const std::filesystem::path old_dir = world->dir() / "schema-2";
    write_schema_two_store(old_dir, {plain.record, web.record});
    ASSERT_EQ(raw_schema_version(old_dir), 2U);
    ASSERT_EQ(raw_value(old_dir, "tokens", plain.record.id.key()).value_or("?").at(0), 1)
        << "the old store holds records of format 1";
    // The daemon's state directory gets the old build's database file.
    const std::filesystem::path data = world->state_dir() / "data.mdb";
    std::filesystem::copy_file(old_dir / "data.mdb", data);
    ASSERT_EQ(::chown(data.c_str(), world->daemon_user.uid, world->daemon_user.uid), 0);
    std::filesystem::permissions(data, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);

    start();
    const ProcessResult r = login_from(plain.text);
    EXPECT_TRUE(succeeded(r)) << describe(r) << world->daemon_log();
    EXPECT_TRUE(succeeded(login_from(web.text, "192.0.2.10", "web")));
    EXPECT_TRUE(auth_failed(login_from(web.text, "192.0.2.10", "sshd")))
        << "its services came through";

    const ProcessResult listed = ctl(world->alice, {"list", "--json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    std::vector<std::string> names;
    const json tokens = json::parse(listed.out).at("tokens");
    for (const auto& t : tokens) {
        names.push_back(t.at("name"));
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"legacy", "legacy-web"}));
    const json shown = show_after_uses(web.record.id.hex(), 4);
    EXPECT_EQ(shown.at("services"), json::array({"web"}));
    EXPECT_EQ(shown.at("sources"), json::array());
    EXPECT_EQ(shown.at("description"), "");
    EXPECT_EQ(shown.at("origin"), "apitoken");
    EXPECT_TRUE(shown.at("max_uses").is_null()) << "unlimited, as every old token";

    // The migrated record takes the new fields.
    const ProcessResult bound =
        ctl(world->alice, {"update", plain.record.id.hex(), "--from=198.51.100.0/24"});
    ASSERT_EQ(bound.exit_code, 0) << bound.err;
    EXPECT_TRUE(auth_failed(login_from(plain.text, "192.0.2.10")));
    EXPECT_TRUE(succeeded(login_from(plain.text, "198.51.100.10")));

    ASSERT_EQ(world->stop_daemon(), 0);
    EXPECT_EQ(raw_schema_version(world->state_dir()), store::kSchemaVersion)
        << "the daemon migrated the store in place";
}

} // namespace
} // namespace apitoken::testing
