// Hostile and broken files in a JENKINS_HOME: each is reported by its path
// and skipped whole; the other users read exactly as without them.
#include "jenkins/jenkins_home.hpp"
#include "tests/jenkins/jenkins_test_support.hpp"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <array>
#include <fstream>
#include <map>
#include <sys/stat.h>

namespace apitoken::jenkins {
namespace {

namespace fs = std::filesystem;
using test::fixture;

// Every hostile file of the fixture; each claims its own user id.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kHostile{{
    {"billion_laughs.xml", "laughs"},
    {"external_entity.xml", "xxe"},
    {"external_dtd.xml", "dtd"},
    {"deep_nesting.xml", "deep"},
    {"utf16_labelled_utf8.xml", "utf16"},
    {"latin1_labelled_utf8.xml", "latin1"},
    {"declared_latin1.xml", "declared"},
    {"truncated.xml", "trunc"},
    {"wrong_root.xml", "wrongroot"},
}};

// Counts libxml2's attempts to load anything from outside the bytes it was
// given (external entities, DTDs), for the whole test.
int external_loads = 0;
xmlParserInputPtr counting_loader(const char* /*url*/, const char* /*id*/, xmlParserCtxtPtr ctxt) {
    ++external_loads;
    return xmlNewStringInputStream(ctxt, reinterpret_cast<const xmlChar*>("<x/>"));
}

class JenkinsHostileTest : public ::testing::Test {
protected:
    void SetUp() override {
        previous_loader_ = xmlGetExternalEntityLoader();
        xmlSetExternalEntityLoader(counting_loader);
        external_loads = 0;
    }
    void TearDown() override { xmlSetExternalEntityLoader(previous_loader_); }

    // The users and tokens as the untouched fixture gives them.
    static void expect_fixture_users(const JenkinsHome& read) {
        const JenkinsHome clean = read_jenkins_home(fixture() / "jenkins_home");
        ASSERT_EQ(read.users.size(), clean.users.size());
        for (std::size_t i = 0; i < clean.users.size(); ++i) {
            EXPECT_EQ(read.users[i].id, clean.users[i].id);
            ASSERT_EQ(read.users[i].tokens.size(), clean.users[i].tokens.size());
            for (std::size_t t = 0; t < clean.users[i].tokens.size(); ++t) {
                EXPECT_EQ(read.users[i].tokens[t].uuid, clean.users[i].tokens[t].uuid);
                EXPECT_EQ(read.users[i].tokens[t].sha256, clean.users[i].tokens[t].sha256);
                EXPECT_EQ(read.users[i].tokens[t].use_count, clean.users[i].tokens[t].use_count);
            }
        }
    }

    static const Problem* problem_for(const JenkinsHome& read, const fs::path& path) {
        for (const Problem& problem : read.problems) {
            if (problem.path == path) {
                return &problem;
            }
        }
        return nullptr;
    }

    test::LocalZone zone_{"UTC"};
    xmlExternalEntityLoader previous_loader_ = nullptr;
};

TEST_F(JenkinsHostileTest, EachHostileConfigIsReportedAndSkippedWhole) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    std::map<std::string_view, fs::path> planted;
    for (const auto& [file, id] : kHostile) {
        const fs::path user = home / "users" / (std::string(id) + "_hostile");
        fs::create_directory(user);
        fs::copy_file(fixture() / "hostile" / file, user / "config.xml");
        planted[file] = user / "config.xml";
    }
    const JenkinsHome read = read_jenkins_home(home);
    expect_fixture_users(read);
    for (const auto& [file, id] : kHostile) {
        EXPECT_EQ(test::find_user(read, id), nullptr) << file << " was read (half) anyway";
        const Problem* problem = problem_for(read, planted[file]);
        ASSERT_NE(problem, nullptr) << file << " not reported";
        EXPECT_FALSE(problem->message.empty());
    }
    EXPECT_EQ(read.problems.size(), kHostile.size() + 1); // + carol's <apiToken>
    EXPECT_EQ(external_loads, 0);
}

TEST_F(JenkinsHostileTest, SaysWhyInWords) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    const std::map<std::string, std::string> expected = {
        {"billion_laughs.xml", "DOCTYPE"},
        {"external_entity.xml", "DOCTYPE"},
        {"deep_nesting.xml", "depth"},
        {"utf16_labelled_utf8.xml", "not UTF-8"},
        {"latin1_labelled_utf8.xml", "not UTF-8"},
        {"declared_latin1.xml", "ISO-8859-1"},
        {"truncated.xml", "not well-formed"},
        {"wrong_root.xml", "root element"},
    };
    for (const auto& [file, words] : expected) {
        const fs::path user = home / "users" / "one_hostile";
        fs::remove_all(user);
        fs::create_directory(user);
        fs::copy_file(fixture() / "hostile" / file, user / "config.xml");
        const JenkinsHome read = read_jenkins_home(home);
        const Problem* problem = problem_for(read, user / "config.xml");
        ASSERT_NE(problem, nullptr) << file;
        EXPECT_NE(problem->message.find(words), std::string::npos)
            << file << ": " << problem->message;
    }
}

TEST_F(JenkinsHostileTest, ABigFileIsRefusedBeforeParsing) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    const fs::path user = home / "users" / "big_hostile";
    fs::create_directory(user);
    {
        std::ofstream out(user / "config.xml", std::ios::binary);
        out << "<?xml version='1.1' encoding='UTF-8'?>\n<user>\n  <id>big</id>\n  <!--";
        const std::string block(std::size_t{1024} * 1024, 'x');
        for (int i = 0; i < 20; ++i) {
            out << block;
        }
        out << "-->\n</user>";
    }
    const JenkinsHome read = read_jenkins_home(home);
    expect_fixture_users(read);
    EXPECT_EQ(test::find_user(read, "big"), nullptr);
    const Problem* problem = problem_for(read, user / "config.xml");
    ASSERT_NE(problem, nullptr);
    EXPECT_NE(problem->message.find("16 MiB"), std::string::npos) << problem->message;
}

// Nothing half-imported: tokens imported without their counts could not
// get them from a later run (they are imported by then), so the user waits.
TEST_F(JenkinsHostileTest, ABadStatisticsFileSkipsItsUserWhole) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    const fs::path stats = test::user_dir(home, "alice") / "apiTokenStats.xml";
    const JenkinsHome before = read_jenkins_home(home);
    ASSERT_NE(test::find_user(before, "alice"), nullptr);
    fs::copy_file(fixture() / "hostile" / "billion_laughs.xml", stats,
                  fs::copy_options::overwrite_existing);
    const JenkinsHome read = read_jenkins_home(home);
    EXPECT_EQ(test::find_user(read, "alice"), nullptr) << "imported without its statistics";
    EXPECT_FALSE(read.users.empty()) << "the other users are read as before";
    const Problem* problem = problem_for(read, stats);
    ASSERT_NE(problem, nullptr);
    EXPECT_NE(problem->message.find("the user is skipped"), std::string::npos) << problem->message;
    // Removed, the user comes back, without statistics.
    fs::remove(stats);
    const JenkinsHome reread = read_jenkins_home(home);
    const JenkinsUser* alice = test::find_user(reread, "alice");
    ASSERT_NE(alice, nullptr);
    EXPECT_EQ(alice->tokens.size(), 2U);
}

TEST_F(JenkinsHostileTest, SymbolicLinksAreNotFollowed) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    // A user directory that is a link, and a config.xml that is one.
    const fs::path outside = dir.path() / "outside";
    fs::create_directory(outside);
    fs::copy_file(test::user_dir(home, "ghost") / "config.xml", outside / "config.xml");
    fs::create_directory_symlink(outside, home / "users" / "linked_dir");
    const fs::path linked_file = home / "users" / "linked_file";
    fs::create_directory(linked_file);
    fs::create_symlink(outside / "config.xml", linked_file / "config.xml");
    fs::remove_all(test::user_dir(home, "ghost")); // so that ghost could only come via a link

    const JenkinsHome read = read_jenkins_home(home);
    EXPECT_EQ(test::find_user(read, "ghost"), nullptr);
    ASSERT_NE(problem_for(read, home / "users" / "linked_dir"), nullptr);
    ASSERT_NE(problem_for(read, linked_file / "config.xml"), nullptr);
}

TEST_F(JenkinsHostileTest, AFifoIsNotOpenedForReading) {
    const test::TempDir dir;
    const fs::path home = test::copy_home(dir);
    const fs::path user = home / "users" / "fifo_hostile";
    fs::create_directory(user);
    ASSERT_EQ(::mkfifo((user / "config.xml").c_str(), 0600), 0);
    const JenkinsHome read = read_jenkins_home(home); // must not block
    expect_fixture_users(read);
    ASSERT_NE(problem_for(read, user / "config.xml"), nullptr);
}

} // namespace
} // namespace apitoken::jenkins
