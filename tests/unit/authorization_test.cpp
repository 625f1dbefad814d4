#include "daemon/authorization.hpp"

#include <gtest/gtest.h>

namespace apitoken::daemon {
namespace {

constexpr gid_t kAuth = 900;
constexpr gid_t kAdmin = 901;
constexpr uid_t kAlice = 1000;
const PrivilegedGroups kGroups{kAuth, kAdmin};

Caller caller(uid_t uid, std::vector<gid_t> groups = {}) {
    return {uid, std::move(groups), 1};
}

TEST(Authorization, AuthenticateTable) {
    EXPECT_TRUE(may_act(caller(0), kAlice, Action::Authenticate, kGroups)) << "root";
    EXPECT_TRUE(may_act(caller(kAlice), kAlice, Action::Authenticate, kGroups)) << "self";
    EXPECT_TRUE(may_act(caller(33, {kAuth}), kAlice, Action::Authenticate, kGroups))
        << "auth group";
    EXPECT_FALSE(may_act(caller(1001), kAlice, Action::Authenticate, kGroups)) << "another user";
    EXPECT_FALSE(may_act(caller(1002, {kAdmin}), kAlice, Action::Authenticate, kGroups))
        << "admin group";
}

TEST(Authorization, ManageTable) {
    EXPECT_TRUE(may_act(caller(0), kAlice, Action::Manage, kGroups)) << "root";
    EXPECT_TRUE(may_act(caller(kAlice), kAlice, Action::Manage, kGroups)) << "self";
    EXPECT_TRUE(may_act(caller(1002, {kAdmin}), kAlice, Action::Manage, kGroups)) << "admin group";
    EXPECT_FALSE(may_act(caller(33, {kAuth}), kAlice, Action::Manage, kGroups)) << "auth group";
    EXPECT_FALSE(may_act(caller(1001), kAlice, Action::Manage, kGroups)) << "another user";
}

TEST(Authorization, MissingGroupsGrantNothing) {
    const PrivilegedGroups none{};
    EXPECT_FALSE(may_act(caller(33, {kAuth}), kAlice, Action::Authenticate, none));
    EXPECT_FALSE(may_act(caller(1002, {kAdmin}), kAlice, Action::Manage, none));
    EXPECT_TRUE(may_act(caller(0), kAlice, Action::Manage, none));
}

} // namespace
} // namespace apitoken::daemon
