// The rules a token meets at each use (use_policy) and when it is made or
// changed (token_policy): the token's own settings and apitokend.conf's.
#include "daemon/api_error.hpp"
#include "daemon/token_policy.hpp"
#include "daemon/use_policy.hpp"
#include "ipc/bus_api.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace apitoken::daemon {
namespace {

using std::chrono::days;
using std::chrono::seconds;

constexpr store::TimePoint kNow{seconds{1'000'000}};

store::TokenRecord token() {
    store::TokenRecord record;
    record.user = "alice";
    record.created = kNow - days{10};
    return record;
}

std::optional<std::string> refusal(const store::TokenRecord& record, const Config& config = {},
                                   std::string_view rhost = "", bool trusted = true,
                                   std::string_view service = "sshd") {
    return use_rejection(
        record, config,
        {.service = service, .rhost = rhost, .rhost_trusted = trusted, .now = kNow});
}

bool mentions(const std::optional<std::string>& reason, const std::string& word) {
    return reason && reason->find(word) != std::string::npos;
}

TEST(UsePolicyTest, APlainTokenIsUsable) {
    EXPECT_EQ(refusal(token()), std::nullopt);
}

TEST(UsePolicyTest, BoundTokensNeedATrustedAddressInside) {
    store::TokenRecord t = token();
    t.sources = {"10.1.0.0/16", "2001:db8::/32"};
    EXPECT_EQ(refusal(t, {}, "10.1.2.3"), std::nullopt);
    EXPECT_EQ(refusal(t, {}, "2001:db8::7"), std::nullopt);
    EXPECT_TRUE(mentions(refusal(t, {}, "10.2.0.1"), "source networks"));
    EXPECT_TRUE(mentions(refusal(t, {}, ""), "no remote host"));
    EXPECT_TRUE(mentions(refusal(t, {}, "host.example.com"), "not a literal IP address"));
    // A caller that may not name the rhost (a user for themselves) has none.
    EXPECT_TRUE(mentions(refusal(t, {}, "10.1.2.3", false), "no remote host"));
    t.sources.clear();
    EXPECT_EQ(refusal(t, {}, "", false), std::nullopt) << "an unbound token needs no rhost";
}

TEST(UsePolicyTest, ExpiredRotatedAndOutOfScopeTokensFail) {
    store::TokenRecord t = token();
    t.expires = kNow;
    EXPECT_TRUE(mentions(refusal(t), "expired"));
    t = token();
    t.rotated_to = store::TokenId::random();
    t.grace_until = kNow + seconds{1};
    EXPECT_EQ(refusal(t), std::nullopt) << "within its grace period";
    t.grace_until = kNow;
    EXPECT_TRUE(mentions(refusal(t), "rotated"));
    t = token();
    t.services = {"imap"};
    EXPECT_TRUE(mentions(refusal(t), "service"));
    EXPECT_EQ(refusal(t, {}, "", true, "imap"), std::nullopt);
}

TEST(UsePolicyTest, TodaysPolicyAppliesToExistingTokensNamingTheKey) {
    const store::TokenRecord t = token();
    Config c;
    c.require_expiry = true;
    EXPECT_TRUE(mentions(refusal(t, c), "require_expiry"));

    c = {};
    c.max_lifetime = days{5};
    EXPECT_TRUE(mentions(refusal(t, c), "max_lifetime")) << "made 10 days ago";
    c.max_lifetime = days{30};
    EXPECT_EQ(refusal(t, c), std::nullopt) << "still within 30 days of its making";

    c = {};
    c.require_services = true;
    EXPECT_TRUE(mentions(refusal(t, c), "require_services"));

    c = {};
    c.allowed_services = {"imap"};
    EXPECT_TRUE(mentions(refusal(t, c, "", true, "imap"), "allowed_services"))
        << "a token for any service is not within the list";
    store::TokenRecord scoped = token();
    scoped.services = {"imap", "sshd"};
    EXPECT_EQ(refusal(scoped, c, "", true, "imap"), std::nullopt);
    EXPECT_TRUE(mentions(refusal(scoped, c, "", true, "sshd"), "allowed_services"));

    c = {};
    c.max_idle = days{7};
    EXPECT_TRUE(mentions(refusal(t, c), "max_idle")) << "never used in 10 days";
    store::TokenRecord used = token();
    used.last_used = kNow - days{1};
    EXPECT_EQ(refusal(used, c), std::nullopt);
}

// An imported token was made in Jenkins, maybe years ago; max_lifetime
// capped its expiry when it was imported (token_import.cpp).
TEST(UsePolicyTest, AnImportedTokensLifetimeCountsFromItsImport) {
    store::TokenRecord imported = token();
    imported.origin = store::kOriginJenkins;
    imported.created = kNow - days{400};
    imported.expires = kNow + days{20};
    Config c;
    c.max_lifetime = days{30};
    EXPECT_EQ(refusal(imported, c), std::nullopt);
    imported.expires.reset();
    EXPECT_TRUE(mentions(refusal(imported, c), "max_lifetime"))
        << "imported before the policy, without an expiry: counted from its making";
    store::TokenRecord native = token();
    native.created = kNow - days{400};
    native.expires = kNow + days{20};
    EXPECT_TRUE(mentions(refusal(native, c), "max_lifetime"));
}

TEST(UsePolicyTest, HostLimitedTokensWorkOnlyOnMatchingHosts) {
    EXPECT_TRUE(host_allowed({}, "web1.example.com")) << "no list: every host";
    EXPECT_TRUE(host_allowed({"web*"}, "web1.example.com")) << "the first label";
    EXPECT_TRUE(host_allowed({"*.example.com"}, "WEB1.example.com")) << "case-insensitive";
    EXPECT_FALSE(host_allowed({"db*"}, "web1.example.com"));
    EXPECT_FALSE(host_allowed({"*"}, "")) << "no host name: only tokens for every host";
    store::TokenRecord t = token();
    t.hosts = {"db*"};
    EXPECT_TRUE(
        mentions(use_rejection(t, {}, {.service = "sshd", .now = kNow, .host_name = "web1"}),
                 "other hosts"));
    EXPECT_EQ(use_rejection(t, {}, {.service = "sshd", .now = kNow, .host_name = "db2"}),
              std::nullopt);
}

TEST(UsePolicyTest, ExpiringSoonIsTheWarningWindowBeforeExpiry) {
    Config c;
    c.expiry_warning = days{7};
    store::TokenRecord t = token();
    EXPECT_FALSE(expiring_soon(t, c, kNow)) << "never expires";
    t.expires = kNow + days{7};
    EXPECT_TRUE(expiring_soon(t, c, kNow));
    t.expires = kNow + days{8};
    EXPECT_FALSE(expiring_soon(t, c, kNow));
    t.expires = kNow;
    EXPECT_FALSE(expiring_soon(t, c, kNow)) << "expired is not expiring";
}

TEST(TokenPolicyTest, ExpiryWithinPolicy) {
    Config c;
    EXPECT_EQ(policy_expiry(c, ipc::kExpiresNever, kNow, kNow), std::nullopt);
    c.require_expiry = true;
    c.default_lifetime = days{30};
    EXPECT_THROW(static_cast<void>(policy_expiry(c, ipc::kExpiresNever, kNow, kNow)), ApiError);
    EXPECT_EQ(policy_expiry(c, ipc::kExpiresDefault, kNow, kNow), kNow + days{30});
    c.max_lifetime = days{30};
    const auto later = (kNow + days{31}).time_since_epoch().count();
    EXPECT_THROW(static_cast<void>(policy_expiry(c, later, kNow, kNow)), ApiError);
    // Counted from the token's making: an update cannot stretch its life.
    const auto in_25_days = (kNow + days{25}).time_since_epoch().count();
    EXPECT_THROW(static_cast<void>(policy_expiry(c, in_25_days, kNow - days{10}, kNow)), ApiError);
    EXPECT_EQ(policy_expiry(c, in_25_days, kNow, kNow), kNow + days{25});
    EXPECT_THROW(static_cast<void>(policy_expiry(c, 5, kNow, kNow)), ApiError) << "the past";
}

TEST(TokenPolicyTest, ServicesWithinPolicy) {
    Config c;
    EXPECT_TRUE(policy_services(c, {}).empty());
    EXPECT_EQ(policy_services(c, {"sshd", "imap", "sshd"}),
              (std::vector<std::string>{"imap", "sshd"}));
    c.require_services = true;
    EXPECT_THROW(static_cast<void>(policy_services(c, {})), ApiError);
    c = {};
    c.allowed_services = {"imap"};
    EXPECT_THROW(static_cast<void>(policy_services(c, {})), ApiError);
    EXPECT_THROW(static_cast<void>(policy_services(c, {"imap", "sshd"})), ApiError);
    EXPECT_EQ(policy_services(c, {"imap"}), std::vector<std::string>{"imap"});
}

TEST(TokenPolicyTest, SourcesAreKeptCanonicalOrRefused) {
    EXPECT_EQ(policy_sources({"10.1.2.3/8", "10.0.0.0/8", "2001:DB8::/32"}),
              (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
    EXPECT_THROW(static_cast<void>(policy_sources({"10.0.0.0/33"})), ApiError);
    EXPECT_THROW(static_cast<void>(policy_sources({"::/129"})), ApiError);
    EXPECT_THROW(static_cast<void>(policy_sources({"example.com"})), ApiError);
    EXPECT_THROW(static_cast<void>(policy_sources(std::vector<std::string>(65, "10.0.0.0/8"))),
                 ApiError);
}

} // namespace
} // namespace apitoken::daemon
