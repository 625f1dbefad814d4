// apitokenctl against the real daemon on a private bus, as several uids.
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <thread>

namespace apitoken::testing {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

class CliTest : public WorldTest {
protected:
    ProcessResult ctl(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(as, args);
    }

    std::string create(const TestUser& as, std::vector<std::string> args) const {
        args.insert(args.begin(), "create");
        const ProcessResult r = ctl(as, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return lines_of(r.out).empty() ? "" : lines_of(r.out)[0];
    }

    json list_json(const TestUser& as, const std::string& user = "") const {
        std::vector<std::string> args{"list", "--json"};
        if (!user.empty()) {
            args.push_back("--user=" + user);
        }
        const ProcessResult r = ctl(as, args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out);
    }
};

TEST_F(CliTest, CreatePrintsTheTokenAloneOnTheFirstLine) {
    world->start_daemon();
    const ProcessResult r = ctl(world->alice, {"create", "ci-upload"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::regex_match(r.out, std::regex("atk_[0-9a-f]{52}\n"))) << r.out;
    EXPECT_EQ(r.err, "") << "no reminder when stderr is not a terminal";
}

TEST_F(CliTest, OnATerminalCreateRemindsThatTheTokenIsShownOnce) {
    world->start_daemon();
    // script(1) runs the command on a pseudo-terminal and copies what it
    // prints (standard output and error alike) to its own output.
    const ProcessResult r =
        world->run_as(world->alice, {"script", "--quiet", "--return", "--command",
                                     std::string(APITOKEN_CTL) + " create on-a-tty --expires=never",
                                     "/dev/null"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("^atk_[0-9a-f]{52}\r?\n"))) << r.out;
    EXPECT_NE(r.out.find("Token \"on-a-tty\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("expires never"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("it will not be shown again"), std::string::npos) << r.out;
}

TEST_F(CliTest, TokenFromCommandSubstitutionWorksThroughPamUntilRevoked) {
    world->start_daemon();
    world->write_pam_service("sftp", "auth required " APITOKEN_PAM_MODULE "\n");
    const ProcessResult made = world->run_as(
        world->alice, {"/bin/sh", "-c", "TOKEN=$(" APITOKEN_CTL " create ci) && echo \"$TOKEN\""});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string token = lines_of(made.out).at(0);
    const ProcessResult ok = world->pamtester(world->root, "sftp", "alice", token + "\n");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    const std::string id = token.substr(4, 12);
    const ProcessResult revoked = ctl(world->alice, {"revoke", id});
    EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
    EXPECT_EQ(revoked.out, "revoked " + id + "\n");
    const ProcessResult refused = world->pamtester(world->root, "sftp", "alice", token + "\n");
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("Authentication failure"), std::string::npos) << refused.err;
}

TEST_F(CliTest, ListShowsAnAlignedTableSortedByCreation) {
    world->start_daemon();
    create(world->alice, {"first", "--expires=30d"});
    // Creation times have one-second resolution; make the order unambiguous.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    create(world->alice, {"second-with-a-longer-name", "--service=sshd", "--service=vsftpd"});
    const ProcessResult r = ctl(world->alice, {"list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3U) << r.out;
    EXPECT_TRUE(lines[0].starts_with("ID ")) << lines[0];
    for (const char* column : {"NAME", "CREATED", "EXPIRES", "LAST USED", "USES", "SERVICES"}) {
        const auto at = lines[0].find(column);
        ASSERT_NE(at, std::string::npos) << column;
        EXPECT_NE(lines[1][at], ' ') << column << " is aligned in row 1: " << r.out;
        EXPECT_NE(lines[2][at], ' ') << column << " is aligned in row 2: " << r.out;
        EXPECT_EQ(lines[1][at - 1], ' ') << r.out;
    }
    EXPECT_NE(lines[1].find("first"), std::string::npos);
    EXPECT_TRUE(std::regex_search(lines[1], std::regex("in (29|30) days"))) << lines[1];
    EXPECT_NE(lines[1].find("never"), std::string::npos) << "never used: " << lines[1];
    EXPECT_NE(lines[1].find("any"), std::string::npos);
    EXPECT_NE(lines[2].find("sshd,vsftpd"), std::string::npos) << lines[2];
}

TEST_F(CliTest, JsonOutputIsStableAndParses) {
    world->start_daemon();
    const ProcessResult made = ctl(world->alice, {"--json", "create", "j", "--expires=2w"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const json created = json::parse(made.out);
    EXPECT_TRUE(
        std::regex_match(created.at("token").get<std::string>(), std::regex("atk_[0-9a-f]{52}")));
    EXPECT_EQ(created.at("name"), "j");
    const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
    EXPECT_TRUE(std::regex_match(created.at("expires").get<std::string>(), rfc3339));

    create(world->alice, {"forever", "--expires=never", "--service=sshd"});
    const json listed = list_json(world->alice);
    ASSERT_EQ(listed.at("tokens").size(), 2U) << listed.dump();
    const auto named = [&](const std::string& name) {
        for (const auto& token : listed["tokens"]) {
            if (token.at("name") == name) {
                return token;
            }
        }
        return json();
    };
    const json first = named("j");
    EXPECT_EQ(first.at("id"), created.at("id"));
    EXPECT_TRUE(std::regex_match(first.at("created").get<std::string>(), rfc3339));
    EXPECT_EQ(first.at("expired"), false);
    EXPECT_TRUE(first.at("last_used").is_null());
    EXPECT_EQ(first.at("use_count"), 0);
    EXPECT_TRUE(first.at("services").empty());
    const json second = named("forever");
    EXPECT_TRUE(second.at("expires").is_null()) << "never expires";
    EXPECT_EQ(second.at("services"), json::array({"sshd"}));
    EXPECT_EQ(listed.dump().find("atk_"), std::string::npos) << "list never shows a token";
}

TEST_F(CliTest, JsonOfRevokeRenameAndRevokeAll) {
    world->start_daemon();
    const json a = json::parse(ctl(world->alice, {"--json", "create", "a"}).out);
    const json b = json::parse(ctl(world->alice, {"--json", "create", "b"}).out);
    create(world->alice, {"c"});
    const std::string a_id = a.at("id");
    const std::string b_id = b.at("id");

    const ProcessResult renamed = ctl(world->alice, {"--json", "rename", a_id, "a2"});
    ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
    EXPECT_EQ(json::parse(renamed.out), (json{{"id", a_id}, {"name", "a2"}}));

    const ProcessResult revoked = ctl(world->alice, {"--json", "revoke", b_id, "000000000000"});
    EXPECT_EQ(revoked.exit_code, 1) << "one id failed";
    const json r = json::parse(revoked.out);
    EXPECT_EQ(r.at("revoked"), json::array({b_id}));
    ASSERT_EQ(r.at("failed").size(), 1U) << r.dump();
    EXPECT_NE(r.at("failed")[0].dump().find("000000000000"), std::string::npos) << r.dump();

    const ProcessResult all = ctl(world->alice, {"--json", "revoke", "--all"});
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(json::parse(all.out), (json{{"revoked_count", 2}})) << "a2 and c";
    EXPECT_TRUE(list_json(world->alice).at("tokens").empty());
}

TEST_F(CliTest, AdminsRenameAndRevokeAnotherUsersTokensWithUser) {
    world->start_daemon();
    const json made = json::parse(ctl(world->alice, {"--json", "create", "x"}).out);
    const std::string id = made.at("id");
    const ProcessResult refused = ctl(world->bob, {"rename", id, "mine", "--user=alice"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("access denied"), std::string::npos) << refused.err;
    const ProcessResult not_hers = ctl(world->admin, {"rename", id, "y"});
    EXPECT_EQ(not_hers.exit_code, 1) << "without --user: the admin's own tokens";
    EXPECT_NE(not_hers.err.find("--user"), std::string::npos) << "the hint: " << not_hers.err;
    EXPECT_EQ(ctl(world->admin, {"rename", id, "y", "--user=alice"}).exit_code, 0);
    EXPECT_EQ(list_json(world->alice).at("tokens")[0].at("name"), "y");
    EXPECT_EQ(ctl(world->admin, {"revoke", id, "--user=alice"}).exit_code, 0);
    EXPECT_TRUE(list_json(world->alice).at("tokens").empty());
}

TEST_F(CliTest, ExpiresAcceptsDurationsDatesTimesAndNever) {
    world->start_daemon();
    const std::time_t next_year = std::time(nullptr) + 365L * 86400;
    std::tm local{};
    std::tm utc{};
    ::localtime_r(&next_year, &local);
    ::gmtime_r(&next_year, &utc);
    char date[16];
    static_cast<void>(std::strftime(date, sizeof date, "%Y-%m-%d", &local));
    char stamp[32];
    static_cast<void>(std::strftime(stamp, sizeof stamp, "%Y-%m-%dT12:00:00Z", &utc));
    for (const std::string& when : std::vector<std::string>{"12h", "90d", date, stamp, "never"}) {
        const ProcessResult r =
            ctl(world->alice, {"create", "t-" + when.substr(0, 4) + std::to_string(when.size()),
                               "--expires=" + when});
        EXPECT_EQ(r.exit_code, 0) << when << ": " << r.err;
    }
    const ProcessResult past = ctl(world->alice, {"create", "past", "--expires=2001-01-01"});
    EXPECT_EQ(past.exit_code, 2);
    EXPECT_NE(past.err.find("in the past"), std::string::npos) << past.err;
    const ProcessResult junk = ctl(world->alice, {"create", "junk", "--expires=soon"});
    EXPECT_EQ(junk.exit_code, 2);
    EXPECT_NE(junk.err.find("not a duration"), std::string::npos) << junk.err;
    EXPECT_EQ(list_json(world->alice).at("tokens").size(), 5U);
}

TEST_F(CliTest, ExpiryBeyondTheDaemonsMaximumIsRefused) {
    world->set_config("max_lifetime = 30d\n");
    world->start_daemon();
    const ProcessResult r = ctl(world->alice, {"create", "long", "--expires=90d"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("at most 30 days"), std::string::npos) << r.err;
    const ProcessResult never = ctl(world->alice, {"create", "forever", "--expires=never"});
    EXPECT_EQ(never.exit_code, 1) << never.err;
    EXPECT_EQ(ctl(world->alice, {"create", "ok", "--expires=7d"}).exit_code, 0);
    EXPECT_EQ(ctl(world->alice, {"create", "default"}).exit_code, 0)
        << "the default fits the maximum";
    const ProcessResult status = ctl(world->alice, {"status"});
    EXPECT_NE(status.out.find("max lifetime:  30 days"), std::string::npos) << status.out;
}

TEST_F(CliTest, RevokeRenameAndTheirErrors) {
    world->start_daemon();
    const std::string a = create(world->alice, {"a"}).substr(4, 12);
    const std::string b = create(world->alice, {"b"}).substr(4, 12);
    create(world->alice, {"c"});

    const ProcessResult renamed = ctl(world->alice, {"rename", a, "alpha"});
    EXPECT_EQ(renamed.exit_code, 0) << renamed.err;
    const ProcessResult duplicate = ctl(world->alice, {"rename", a, "b"});
    EXPECT_EQ(duplicate.exit_code, 1);
    EXPECT_NE(duplicate.err.find("already has a token named \"b\""), std::string::npos)
        << duplicate.err;
    const ProcessResult dup_create = ctl(world->alice, {"create", "b"});
    EXPECT_EQ(dup_create.exit_code, 1);

    const ProcessResult unknown = ctl(world->alice, {"revoke", "000000000000", b});
    EXPECT_EQ(unknown.exit_code, 1) << "one of the ids failed";
    EXPECT_NE(unknown.err.find("token 000000000000 does not exist"), std::string::npos)
        << unknown.err;
    EXPECT_NE(unknown.out.find("revoked " + b), std::string::npos) << "the other id was revoked";
    EXPECT_EQ(ctl(world->alice, {"revoke"}).exit_code, 2) << "neither ids nor --all";
    EXPECT_EQ(ctl(world->alice, {"revoke", a, "--all"}).exit_code, 2) << "both";
    const ProcessResult all = ctl(world->alice, {"revoke", "--all"});
    EXPECT_EQ(all.exit_code, 0);
    EXPECT_EQ(all.out, "revoked 2 tokens\n");
    EXPECT_TRUE(list_json(world->alice).at("tokens").empty());
}

TEST_F(CliTest, TooManyTokensIsExplained) {
    world->set_config("max_tokens_per_user = 2\n");
    world->start_daemon();
    create(world->alice, {"one"});
    create(world->alice, {"two"});
    const ProcessResult r = ctl(world->alice, {"create", "three"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("maximum of 2 tokens"), std::string::npos) << r.err;
}

TEST_F(CliTest, UserOptionForRootAndAdminsOnly) {
    world->start_daemon();
    EXPECT_EQ(ctl(world->root, {"create", "by-root", "--user=alice"}).exit_code, 0);
    EXPECT_EQ(ctl(world->admin, {"create", "by-admin", "--user=alice"}).exit_code, 0);
    EXPECT_EQ(list_json(world->admin, "alice").at("tokens").size(), 2U);
    const ProcessResult refused = ctl(world->bob, {"list", "--user=alice"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("access denied"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("apitoken-admin"), std::string::npos)
        << "names the group that would allow it";
    EXPECT_EQ(ctl(world->bob, {"create", "x", "--user=alice"}).exit_code, 1);
    EXPECT_EQ(ctl(world->bob, {"revoke", "--all", "--user=alice"}).exit_code, 1);
    EXPECT_EQ(list_json(world->root, "alice").at("tokens").size(), 2U) << "nothing changed";
}

TEST_F(CliTest, StatusAndDaemonNotRunning) {
    world->start_daemon();
    const ProcessResult running = ctl(world->alice, {"status"});
    EXPECT_EQ(running.exit_code, 0);
    EXPECT_NE(running.out.find("is running"), std::string::npos);
    const ProcessResult as_json = ctl(world->alice, {"status", "--json"});
    EXPECT_EQ(json::parse(as_json.out).at("running"), true);
    world->stop_daemon();
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"status"}, {"list"}, {"create", "x"}}) {
        const ProcessResult r = ctl(world->alice, args);
        EXPECT_EQ(r.exit_code, 1) << args[0];
        EXPECT_NE(r.err.find("apitokend is not running"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("systemctl start apitokend"), std::string::npos) << r.err;
    }
}

TEST_F(CliTest, NoSystemBusSaysSoAndHowToStartIt) {
    const ProcessResult r =
        run_process({APITOKEN_CTL, "list"}, {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" +
                                             (world->dir() / "no-bus-here").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot connect to the system bus"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("systemctl start dbus"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("apitokend is not running"), std::string::npos)
        << "the daemon is not what is missing: " << r.err;
}

TEST_F(CliTest, UsageErrorsHelpAndVersion) {
    EXPECT_EQ(ctl(world->alice, {}).exit_code, 2);
    EXPECT_EQ(ctl(world->alice, {"create"}).exit_code, 2) << "NAME is required";
    EXPECT_EQ(ctl(world->alice, {"list", "--frobnicate"}).exit_code, 2);
    const ProcessResult help = ctl(world->alice, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("Exit status"), std::string::npos);
    const ProcessResult version = ctl(world->alice, {"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("apitokenctl "), std::string::npos);
}

} // namespace
} // namespace apitoken::testing
