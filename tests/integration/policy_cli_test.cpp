// apitokenctl's token policy commands against the real daemon on a private
// bus, as several uids: create with every option, show, update, rotate,
// list (--all-users, --expiring, --unused) and the bulk revoke, with their
// refusals and their JSON.
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

namespace apitoken::testing {
namespace {

using nlohmann::json;

bool is_token_line(const std::string& text) {
    return std::regex_match(text, std::regex("atk_[0-9a-f]{52}\n"));
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The line of `text` that contains `needle` ("" when none does).
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (contains(line, needle)) {
            return line;
        }
    }
    return {};
}

class PolicyCliTest : public WorldTest {
protected:
    // Usage statistics are written every second, so that tests see them soon.
    void start(const std::string& config = "") const {
        world->set_config("usage_flush_interval = 1s\n" + config);
        world->start_daemon();
    }

    ProcessResult ctl(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args);
    }

    // The new token (stdout's only line).
    std::string create(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), "create");
        const ProcessResult r = ctl(as, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(is_token_line(r.out)) << r.out;
        return r.out.substr(0, r.out.size() - 1);
    }

    static std::string id_of(const std::string& token) { return token.substr(4, 12); }

    json show(const TestUser& as, const std::string& id, const std::string& user = "") const {
        std::vector<std::string> args{"show", id, "--json"};
        if (!user.empty()) {
            args.push_back("--user=" + user);
        }
        const ProcessResult r = ctl(as, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 ? json::parse(r.out) : json::object();
    }

    json list(const TestUser& as, std::vector<std::string> args = {}) const {
        args.insert(args.begin(), {"list", "--json"});
        const ProcessResult r = ctl(as, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 ? json::parse(r.out).at("tokens") : json::array();
    }

    static std::vector<std::string> names_in(const json& tokens) {
        std::vector<std::string> names;
        for (const auto& t : tokens) {
            names.push_back(t.at("name"));
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    // An authentication through a service that names the remote host (as
    // root may).
    bool auth(const std::string& user, const std::string& token,
              const std::string& rhost = "192.0.2.7", const std::string& service = "sshd") const {
        return world->call(world->root, {"auth", user, token, service, rhost}).ok();
    }

    // show --json once the daemon has written `uses` uses of the token.
    json show_after_uses(const TestUser& as, const std::string& id, std::uint64_t uses) const {
        json shown;
        for (int i = 0; i < 100; ++i) {
            shown = show(as, id);
            if (shown.value("use_count", 0U) >= uses) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return shown;
    }
};

TEST_F(PolicyCliTest, CreateWithEveryOptionAndShowTellsItAll) {
    start();
    const std::string token = create(
        world->alice, {"nas", "--description=nightly backup", "--from=192.0.2.0/24",
                       "--from=2001:db8::/32", "--max-uses=5", "--service=sshd", "--expires=30d"});
    const std::string id = id_of(token);
    json t = show(world->alice, id);
    EXPECT_EQ(t.at("id"), id);
    EXPECT_EQ(t.at("description"), "nightly backup");
    EXPECT_EQ(t.at("sources"), json::array({"192.0.2.0/24", "2001:db8::/32"}));
    EXPECT_EQ(t.at("services"), json::array({"sshd"}));
    EXPECT_EQ(t.at("max_uses"), 5);
    EXPECT_EQ(t.at("user"), "alice");
    EXPECT_EQ(t.at("uid"), world->alice.uid);
    EXPECT_EQ(t.at("created_by"), world->alice.uid);
    EXPECT_EQ(t.at("origin"), "apitoken");
    EXPECT_TRUE(t.at("rotated_from").is_null());
    EXPECT_TRUE(t.at("recent_sources").empty());

    EXPECT_TRUE(auth("alice", token, "192.0.2.7")) << "inside a network it is bound to";
    EXPECT_FALSE(auth("alice", token, "198.51.100.1")) << "outside";
    t = show_after_uses(world->alice, id, 1);
    EXPECT_EQ(t.at("use_count"), 1);
    ASSERT_EQ(t.at("recent_sources").size(), 1U) << t.dump();
    EXPECT_EQ(t.at("recent_sources")[0].at("rhost"), "192.0.2.7");
    EXPECT_EQ(t.at("recent_sources")[0].at("service"), "sshd");
    EXPECT_EQ(t.at("recent_sources")[0].at("count"), 1);

    const ProcessResult text = ctl(world->alice, {"show", id});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_TRUE(contains(line_with(text.out, "description:"), "\"nightly backup\"")) << text.out;
    EXPECT_TRUE(contains(line_with(text.out, "sources:"), "192.0.2.0/24,2001:db8::/32"));
    EXPECT_TRUE(contains(line_with(text.out, "uses:"), "1 of 5")) << text.out;
    EXPECT_TRUE(contains(line_with(text.out, "created by:"), "the owner")) << text.out;
    EXPECT_TRUE(contains(line_with(text.out, "192.0.2.7"), "sshd")) << "recent sources\n"
                                                                    << text.out;
}

TEST_F(PolicyCliTest, CreateJsonCarriesEveryKeyAndAOneTimeTokenWorksOnce) {
    start();
    const ProcessResult r = ctl(world->alice, {"--json", "create", "once", "--max-uses=1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json made = json::parse(r.out);
    for (const char* key :
         {"token", "id", "name", "user", "created", "expires", "max_uses", "sources", "hosts",
          "description", "recent_sources", "origin", "rotated_from", "rotated_to", "grace_until",
          "created_by", "expiring_soon", "orphaned"}) {
        EXPECT_TRUE(made.contains(key)) << key << ": " << r.out;
    }
    EXPECT_EQ(made.at("max_uses"), 1);
    const std::string token = made.at("token");
    EXPECT_TRUE(auth("alice", token));
    EXPECT_FALSE(auth("alice", token)) << "a one-time token works once";
    EXPECT_TRUE(contains(line_with(ctl(world->alice, {"list"}).out, "once"), "1/1"));
}

TEST_F(PolicyCliTest, BadPolicyInputIsRefusedAndNothingIsMade) {
    start();
    std::vector<std::string> many{"create", "many"};
    for (int i = 0; i < 10000; ++i) {
        many.push_back("--from=10." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
                       ".0/24");
    }
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"create", "a", "--from=10.0.0.0/33"},
             {"create", "b", "--from=::/129"},
             {"create", "c", "--from=example.org"},
             {"create", "d", "--description=" + std::string(10000, 'x')},
             {"create", "e",
              "--description=bad\u202Eorder"}, // NOLINT(misc-misleading-bidirectional)
             many}) {
        const ProcessResult r = ctl(world->alice, args);
        EXPECT_EQ(r.exit_code, 1) << args.at(2).substr(0, 40) << ": " << r.err;
        EXPECT_TRUE(contains(r.err, "invalid argument")) << r.err;
    }
    for (const char* uses : {"--max-uses=0", "--max-uses=-1", "--max-uses=1e3",
                             "--max-uses=99999999999999999999999"}) {
        const ProcessResult r = ctl(world->alice, {"create", "f", uses});
        EXPECT_EQ(r.exit_code, 2) << uses;
        EXPECT_TRUE(contains(r.err, "--max-uses")) << r.err;
    }
    EXPECT_TRUE(list(world->alice).empty()) << "nothing was made";
}

TEST_F(PolicyCliTest, ShowSaysAnAdminMadeItAndRefusesWhatIsNotYours) {
    start();
    const std::string id = id_of(create(world->admin, {"deploy", "--user=alice"}));
    EXPECT_EQ(show(world->alice, id).at("created_by"), world->admin.uid);
    const ProcessResult text = ctl(world->alice, {"show", id});
    EXPECT_TRUE(std::regex_search(line_with(text.out, "created by:"),
                                  std::regex("uid 61004\\)?, an admin, for alice")))
        << text.out;

    const ProcessResult unknown = ctl(world->alice, {"show", "000000000000"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(contains(unknown.err, "token 000000000000 does not exist")) << unknown.err;
    EXPECT_EQ(ctl(world->bob, {"show", id}).exit_code, 1) << "not bob's";
    const ProcessResult denied = ctl(world->bob, {"show", id, "--user=alice"});
    EXPECT_EQ(denied.exit_code, 1);
    EXPECT_TRUE(contains(denied.err, "access denied")) << denied.err;
    EXPECT_EQ(show(world->root, id, "alice").at("name"), "deploy");
}

TEST_F(PolicyCliTest, UpdateSaysWhatChangedAndClearsLists) {
    start();
    const std::string id = id_of(create(world->alice, {"u", "--service=sshd"}));
    const ProcessResult r = ctl(world->alice, {"update", id, "--name=u2", "--description=notes",
                                               "--from=10.0.0.0/8", "--expires=10d"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(line_with(r.out, "name:"), "\"u\"")) << r.out;
    EXPECT_TRUE(contains(line_with(r.out, "name:"), "\"u2\"")) << r.out;
    EXPECT_TRUE(contains(line_with(r.out, "sources:"), "10.0.0.0/8")) << r.out;
    EXPECT_TRUE(contains(r.out, "description:")) << r.out;
    EXPECT_TRUE(contains(r.out, "expires:")) << r.out;
    EXPECT_FALSE(contains(r.out, "services:")) << "unchanged: " << r.out;
    json t = show(world->alice, id);
    EXPECT_EQ(t.at("name"), "u2");
    EXPECT_EQ(t.at("sources"), json::array({"10.0.0.0/8"}));

    const ProcessResult cleared = ctl(world->alice, {"--json", "update", id, "--any-service",
                                                     "--any-source", "--no-description"});
    ASSERT_EQ(cleared.exit_code, 0) << cleared.err;
    const json c = json::parse(cleared.out);
    EXPECT_EQ(c.at("changed"), json::array({"description", "services", "sources"})) << c.dump();
    EXPECT_EQ(c.at("token").at("services"), json::array());
    EXPECT_EQ(c.at("token").at("description"), "");

    const ProcessResult same = ctl(world->alice, {"update", id, "--name=u2"});
    EXPECT_EQ(same.exit_code, 0) << same.err;
    EXPECT_TRUE(contains(same.out, "nothing changed")) << same.out;
    EXPECT_EQ(ctl(world->alice, {"update", id}).exit_code, 2) << "no change given";
    EXPECT_EQ(ctl(world->alice, {"update", id, "--service=a", "--any-service"}).exit_code, 2);
    const ProcessResult unknown = ctl(world->alice, {"update", "000000000000", "--name=x"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(contains(unknown.err, "does not exist")) << unknown.err;
    const ProcessResult denied = ctl(world->bob, {"update", id, "--name=x", "--user=alice"});
    EXPECT_EQ(denied.exit_code, 1);
    EXPECT_TRUE(contains(denied.err, "access denied")) << denied.err;
    const ProcessResult bad = ctl(world->alice, {"update", id, "--from=10.0.0.0/33"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(show(world->alice, id).at("sources").empty()) << "nothing changed";
}

TEST_F(PolicyCliTest, UpdateStaysWithinThePolicy) {
    start("max_lifetime = 30d\n");
    const std::string id = id_of(create(world->alice, {"p", "--expires=7d"}));
    const ProcessResult longer = ctl(world->alice, {"update", id, "--expires=90d"});
    EXPECT_EQ(longer.exit_code, 1) << longer.out;
    EXPECT_FALSE(longer.err.empty());
    EXPECT_EQ(ctl(world->alice, {"update", id, "--expires=never"}).exit_code, 1);
    EXPECT_EQ(ctl(world->alice, {"update", id, "--expires=1d"}).exit_code, 0);
}

TEST_F(PolicyCliTest, RotateWithGraceKeepsBothWorkingAndLinksThem) {
    start();
    const std::string old_token =
        create(world->alice, {"r", "--service=sshd", "--description=keep me"});
    const std::string old_id = id_of(old_token);
    const ProcessResult r = ctl(world->alice, {"rotate", old_id, "--grace=1h"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(is_token_line(r.out)) << "the new token alone: " << r.out;
    const std::string new_token = r.out.substr(0, r.out.size() - 1);
    const std::string new_id = id_of(new_token);
    EXPECT_NE(new_id, old_id);
    EXPECT_TRUE(contains(r.err, "replaces " + old_id)) << r.err;
    EXPECT_TRUE(contains(r.err, "keeps working until")) << r.err;

    EXPECT_TRUE(auth("alice", old_token)) << "during the grace period";
    EXPECT_TRUE(auth("alice", new_token));
    const json fresh = show(world->alice, new_id);
    EXPECT_EQ(fresh.at("rotated_from"), old_id);
    EXPECT_EQ(fresh.at("description"), "keep me");
    EXPECT_EQ(fresh.at("services"), json::array({"sshd"}));
    const json old = show(world->alice, old_id);
    EXPECT_EQ(old.at("rotated_to"), new_id);
    EXPECT_FALSE(old.at("grace_until").is_null());
    EXPECT_TRUE(contains(line_with(ctl(world->alice, {"list"}).out, old_id), "rotated, until"));
    EXPECT_TRUE(contains(line_with(ctl(world->alice, {"show", old_id}).out, "rotated to:"),
                         new_id + ", works until"));

    const ProcessResult again = ctl(world->alice, {"rotate", old_id});
    EXPECT_EQ(again.exit_code, 1) << "in its grace period";
    EXPECT_FALSE(again.err.empty());
}

TEST_F(PolicyCliTest, RotateWithoutGraceStopsTheOldTokenAtOnce) {
    start();
    const std::string old_token = create(world->alice, {"r"});
    const std::string old_id = id_of(old_token);
    const ProcessResult r = ctl(world->alice, {"--json", "rotate", old_id, "--expires=2d"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json rotated = json::parse(r.out);
    EXPECT_EQ(rotated.at("replaced").at("id"), old_id);
    EXPECT_TRUE(rotated.at("replaced").at("grace_until").is_null());
    EXPECT_EQ(rotated.at("rotated_from"), old_id);
    EXPECT_TRUE(contains(r.err, old_id + " no longer works")) << r.err;
    EXPECT_FALSE(auth("alice", old_token));
    EXPECT_TRUE(auth("alice", rotated.at("token").get<std::string>()));

    EXPECT_EQ(ctl(world->alice, {"rotate", old_id, "--grace=soon"}).exit_code, 2);
    const ProcessResult unknown = ctl(world->alice, {"rotate", "000000000000"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(contains(unknown.err, "does not exist")) << unknown.err;
}

TEST_F(PolicyCliTest, ListMarksExpiringSoonAndFilters) {
    start("expiry_warning = 7d\n");
    create(world->alice, {"soon", "--expires=3d"});
    create(world->alice, {"later", "--expires=30d"});
    create(world->alice, {"limited", "--max-uses=10"});
    const ProcessResult table = ctl(world->alice, {"list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_TRUE(contains(line_with(table.out, "soon"), "(soon)")) << table.out;
    EXPECT_FALSE(contains(line_with(table.out, "later"), "(soon)")) << table.out;
    EXPECT_TRUE(contains(line_with(table.out, "limited"), "0/10")) << table.out;
    EXPECT_FALSE(contains(line_with(table.out, "ID "), "OWNER")) << "only with --all-users";

    const json expiring = list(world->alice, {"--expiring=7d"});
    EXPECT_EQ(names_in(expiring), std::vector<std::string>{"soon"});
    EXPECT_EQ(expiring.at(0).at("expiring_soon"), true);
    EXPECT_EQ(ctl(world->alice, {"list", "--expiring=soon"}).exit_code, 2);
}

TEST_F(PolicyCliTest, ListUnusedLeavesOutWhatWasUsedLately) {
    start();
    const std::string used = create(world->alice, {"used"});
    create(world->alice, {"idle"});
    std::this_thread::sleep_for(std::chrono::milliseconds(4500));
    ASSERT_TRUE(auth("alice", used));
    show_after_uses(world->alice, id_of(used), 1);
    EXPECT_EQ(names_in(list(world->alice, {"--unused=4s"})), std::vector<std::string>{"idle"});
    EXPECT_EQ(names_in(list(world->alice, {"--unused=1d"})), std::vector<std::string>{})
        << "both are younger than a day";
}

TEST_F(PolicyCliTest, AllUsersInventoryForRootAndAdminsOnly) {
    start();
    create(world->alice, {"hers"});
    create(world->bob, {"his"});
    const ProcessResult table = ctl(world->admin, {"list", "--all-users"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_TRUE(line_with(table.out, "ID ").starts_with("ID ")) << table.out;
    EXPECT_TRUE(contains(line_with(table.out, "ID "), "OWNER")) << table.out;
    EXPECT_TRUE(contains(line_with(table.out, "hers"), "alice")) << table.out;
    EXPECT_TRUE(contains(line_with(table.out, "his"), "bob")) << table.out;
    const json every = list(world->root, {"--all-users"});
    EXPECT_EQ(names_in(every), (std::vector<std::string>{"hers", "his"}));

    for (const auto& args : std::vector<std::vector<std::string>>{
             {"list", "--all-users"}, {"revoke", "--expired", "--all-users"}}) {
        const ProcessResult r = ctl(world->bob, args);
        EXPECT_EQ(r.exit_code, 1) << args[0];
        EXPECT_TRUE(contains(r.err, "access denied")) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    EXPECT_EQ(ctl(world->admin, {"list", "--all-users", "--user=alice"}).exit_code, 2);
    EXPECT_EQ(names_in(list(world->root, {"--all-users"})).size(), 2U) << "nothing changed";
}

TEST_F(PolicyCliTest, BulkRevokeDryRunRevokesNothingThenRevokes) {
    start();
    const std::string old_id = id_of(create(world->alice, {"short", "--expires=2s"}));
    create(world->alice, {"keep", "--expires=30d"});
    const std::string bobs = id_of(create(world->bob, {"bobs-short", "--expires=2s"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));

    const ProcessResult dry = ctl(world->alice, {"revoke", "--expired", "--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_TRUE(contains(line_with(dry.out, old_id), "would revoke")) << dry.out;
    EXPECT_TRUE(contains(dry.out, "nothing was revoked")) << dry.out;
    EXPECT_FALSE(contains(dry.out, bobs)) << "alice's tokens only";
    const ProcessResult dry_json =
        ctl(world->alice, {"--json", "revoke", "--expired", "--dry-run"});
    const json d = json::parse(dry_json.out);
    EXPECT_EQ(d.at("ids"), json::array({old_id}));
    EXPECT_EQ(d.at("dry_run"), true);
    EXPECT_EQ(list(world->alice).size(), 2U) << "a dry run revokes nothing";

    const ProcessResult done = ctl(world->alice, {"revoke", "--expired"});
    ASSERT_EQ(done.exit_code, 0) << done.err;
    EXPECT_TRUE(contains(line_with(done.out, old_id), "revoked")) << done.out;
    EXPECT_TRUE(contains(done.out, "revoked 1 token\n")) << done.out;
    EXPECT_EQ(names_in(list(world->alice)), std::vector<std::string>{"keep"});

    const ProcessResult admin = ctl(world->admin, {"--json", "revoke", "--expired", "--all-users"});
    ASSERT_EQ(admin.exit_code, 0) << admin.err;
    EXPECT_EQ(json::parse(admin.out).at("ids"), json::array({bobs}));
    EXPECT_TRUE(list(world->bob).empty());

    EXPECT_EQ(ctl(world->alice, {"revoke", "--expired", "--unused=1d"}).exit_code, 2);
    EXPECT_EQ(ctl(world->alice, {"revoke", old_id, "--dry-run"}).exit_code, 2);
    EXPECT_EQ(ctl(world->alice, {"revoke", "--unused=x"}).exit_code, 2);
}

TEST_F(PolicyCliTest, BulkRevokeOfUnusedTokens) {
    start();
    const std::string used = create(world->alice, {"used"});
    const std::string idle = id_of(create(world->alice, {"idle"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(4500));
    ASSERT_TRUE(auth("alice", used));
    show_after_uses(world->alice, id_of(used), 1);
    const ProcessResult r = ctl(world->alice, {"--json", "revoke", "--unused=4s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json revoked = json::parse(r.out);
    EXPECT_EQ(revoked.at("ids"), json::array({idle}));
    EXPECT_EQ(revoked.at("dry_run"), false);
    ASSERT_EQ(revoked.at("tokens").size(), 1U);
    EXPECT_EQ(revoked.at("tokens")[0].at("name"), "idle");
    EXPECT_EQ(names_in(list(world->alice)), std::vector<std::string>{"used"});
}

} // namespace
} // namespace apitoken::testing
