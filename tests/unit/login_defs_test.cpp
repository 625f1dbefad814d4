// import-jenkins keeps tokens away from system accounts by name: where login
// accounts start comes from /etc/login.defs, as for useradd.
#include "cli/login_defs.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace apitoken::cli {
namespace {

TEST(LoginDefs, UidMinIsReadWithItsBlanksAndComments) {
    EXPECT_EQ(
        first_login_uid("# UID_MIN 5\nMAIL_DIR /var/mail\nUID_MIN\t\t\t 2000\nUID_MAX 60000\n"),
        2000U);
    EXPECT_EQ(first_login_uid("  UID_MIN 500  \r\n"), 500U);
}

TEST(LoginDefs, TheLastValidLineWinsAsForUseradd) {
    EXPECT_EQ(first_login_uid("UID_MIN 2000\nUID_MIN 3000\n"), 3000U);
    EXPECT_EQ(first_login_uid("UID_MIN 2000\nUID_MIN lots\n"), 2000U);
}

TEST(LoginDefs, AnythingElseKeepsTheDefault) {
    for (const char* text :
         {"", "\n\n", "# UID_MIN 5\n", "UID_MINIMUM 5\n", "UID_MIN\n", "UID_MIN 12abc\n",
          "UID_MIN -5\n", "UID_MIN 99999999999\n", "UID_MIN 4294967295\n", "SYS_UID_MIN 100\n"}) {
        EXPECT_EQ(first_login_uid(text), kDefaultFirstLoginUid) << text;
    }
}

TEST(LoginDefs, AMissingFileKeepsTheDefaultAndAFileIsRead) {
    const testing::TempDir dir;
    EXPECT_EQ(first_login_uid_from((dir.path() / "absent").string()), kDefaultFirstLoginUid);
    const auto path = dir.path() / "login.defs";
    std::ofstream(path) << "UID_MIN 1500\n";
    EXPECT_EQ(first_login_uid_from(path.string()), 1500U);
}

} // namespace
} // namespace apitoken::cli
