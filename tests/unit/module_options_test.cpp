#include "pam_module/module_options.hpp"
#include "pam_module/outcome_mapping.hpp"

#include <gtest/gtest.h>
#include <security/_pam_types.h>

#include <vector>

namespace apitoken::pam {
namespace {

using namespace std::chrono_literals;

ModuleOptions parse(std::vector<const char*> args) {
    return parse_module_options(static_cast<int>(args.size()), args.data());
}

TEST(ModuleOptions, DefaultsAndEveryOption) {
    const ModuleOptions defaults = parse({});
    EXPECT_FALSE(defaults.debug);
    EXPECT_EQ(defaults.timeout, 5s);
    EXPECT_EQ(defaults.source, TokenSource::Prompt);
    EXPECT_FALSE(defaults.ignore_unknown_user);
    EXPECT_FALSE(defaults.ignore_authinfo_unavail);
    EXPECT_FALSE(defaults.jenkins_tokens);
    EXPECT_FALSE(defaults.bus_only);

    const ModuleOptions all =
        parse({"debug", "timeout=2.5", "use_first_pass", "ignore_unknown_user",
               "ignore_authinfo_unavail", "jenkins_tokens", "bus_only"});
    EXPECT_TRUE(all.debug);
    EXPECT_EQ(all.timeout, 2500ms);
    EXPECT_EQ(all.source, TokenSource::UseFirstPass);
    EXPECT_TRUE(all.ignore_unknown_user);
    EXPECT_TRUE(all.ignore_authinfo_unavail);
    EXPECT_TRUE(all.jenkins_tokens);
    EXPECT_TRUE(all.bus_only);
    EXPECT_TRUE(all.unknown.empty());
    EXPECT_EQ(parse({"try_first_pass"}).source, TokenSource::TryFirstPass);
}

TEST(ModuleOptions, UnknownAndInvalidOptionsAreReportedAndIgnored) {
    const ModuleOptions o = parse({"frobnicate", "timeout=0", "timeout=-1", "timeout=abc",
                                   "timeout=301", "timeout=1.2345", "timeout=", "Debug"});
    EXPECT_EQ(o.unknown.size(), 8U);
    EXPECT_EQ(o.timeout, 5s) << "invalid timeouts keep the default";
    EXPECT_FALSE(o.debug) << "options are case-sensitive";
    EXPECT_EQ(parse({"timeout=300"}).timeout, 300s);
    EXPECT_EQ(parse({"timeout=0.001"}).timeout, 1ms);
}

ipc::Outcome refused(ipc::Error e) {
    return {ipc::Outcome::Kind::Refused, e, ""};
}
ipc::Outcome kind(ipc::Outcome::Kind k) {
    return {k, ipc::Error::Failed, ""};
}

TEST(OutcomeMapping, DesignTable) {
    const ModuleOptions plain;
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::Ok), plain), PAM_SUCCESS);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::AuthenticationFailed), plain), PAM_AUTH_ERR);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::NoSuchUser), plain), PAM_USER_UNKNOWN);
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::Unavailable), plain), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::Busy), plain), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::TooManyAttempts), plain), PAM_MAXTRIES);
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::OutOfMemory), plain), PAM_BUF_ERR);
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::Failed), plain), PAM_SERVICE_ERR);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::AccessDenied), plain), PAM_SERVICE_ERR);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::InvalidArgument), plain), PAM_SERVICE_ERR);
}

TEST(OutcomeMapping, IgnoreOptionsTurnOnlyTheirRowsIntoIgnore) {
    ModuleOptions o;
    o.ignore_unknown_user = true;
    EXPECT_EQ(pam_code_for(refused(ipc::Error::NoSuchUser), o), PAM_IGNORE);
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::Unavailable), o), PAM_AUTHINFO_UNAVAIL);
    o = {};
    o.ignore_authinfo_unavail = true;
    EXPECT_EQ(pam_code_for(kind(ipc::Outcome::Kind::Unavailable), o), PAM_IGNORE);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::Busy), o), PAM_IGNORE);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::NoSuchUser), o), PAM_USER_UNKNOWN);
    EXPECT_EQ(pam_code_for(refused(ipc::Error::AuthenticationFailed), o), PAM_AUTH_ERR);
}

TEST(OutcomeMapping, GettingTheUserName) {
    const ModuleOptions plain;
    EXPECT_EQ(pam_code_for_get_user(PAM_SUCCESS, true, plain), PAM_SUCCESS);
    EXPECT_EQ(pam_code_for_get_user(PAM_SUCCESS, false, plain), PAM_USER_UNKNOWN) << "no name";
    EXPECT_EQ(pam_code_for_get_user(PAM_CONV_ERR, false, plain), PAM_CONV_ERR);
    EXPECT_EQ(pam_code_for_get_user(PAM_BUF_ERR, false, plain), PAM_BUF_ERR);
    EXPECT_EQ(pam_code_for_get_user(PAM_CONV_AGAIN, false, plain), PAM_INCOMPLETE);
    EXPECT_EQ(pam_code_for_get_user(PAM_SYSTEM_ERR, false, plain), PAM_SERVICE_ERR)
        << "anything else";
    ModuleOptions ignoring;
    ignoring.ignore_unknown_user = true;
    EXPECT_EQ(pam_code_for_get_user(PAM_SUCCESS, false, ignoring), PAM_IGNORE);
    EXPECT_EQ(pam_code_for_get_user(PAM_SYSTEM_ERR, false, ignoring), PAM_SERVICE_ERR);
}

} // namespace
} // namespace apitoken::pam
