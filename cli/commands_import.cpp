// import-jenkins: reads a JENKINS_HOME (jenkins/), decides what goes where
// (jenkins_import), makes one ImportTokens call per Jenkins user, and says
// what happened (import_report).
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/failure_message.hpp"
#include "cli/import_report.hpp"
#include "cli/jenkins_import.hpp"
#include "cli/login_defs.hpp"
#include "cli/output.hpp"
#include "cli/user_map.hpp"
#include "jenkins/jenkins_home.hpp"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <vector>

namespace apitoken::cli {
namespace {

// The uid of the local account `name`, if there is one.
std::optional<uid_t> local_uid(const std::string& name) {
    if (name.find('\0') != std::string::npos) {
        return std::nullopt; // names nobody (and getpwnam would see another name)
    }
    const long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(static_cast<std::size_t>(size > 0 ? size : 16384));
    passwd entry{};
    passwd* found = nullptr;
    int error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    while (error == ERANGE && buffer.size() < (std::size_t{1} << 20U)) {
        buffer.resize(buffer.size() * 2);
        error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    }
    if (error != 0 || found == nullptr) {
        return std::nullopt;
    }
    return found->pw_uid;
}

bool local_user_exists(const std::string& name) {
    return local_uid(name).has_value();
}

// nobody (65534) is no login account either.
constexpr uid_t kNobodyUid = 65534;

// A Jenkins id that is the name of root or a system account is not that
// account's owner (anyone who may sign up in Jenkins, or the account that
// owns JENKINS_HOME, chooses it): its tokens go there only when the user
// map names the Jenkins id, that is when root said so.
void skip_system_accounts(const UserMap& map, ImportPlan& plan) {
    const uid_t first_login_uid = first_login_uid_from();
    std::vector<UserImport> kept;
    for (UserImport& user : plan.users) {
        const auto uid = local_uid(user.local_user);
        if (map.lists(user.jenkins_user) || !uid ||
            (*uid >= first_login_uid && *uid != kNobodyUid)) {
            kept.push_back(std::move(user));
            continue;
        }
        for (const jenkins::JenkinsToken& token : user.tokens) {
            plan.skipped.push_back({user.jenkins_user, token.name, token.uuid,
                                    "local user " + user.local_user + " is root or a system " +
                                        "account (uid " + std::to_string(*uid) +
                                        "); only a --user-map line sends tokens there"});
        }
    }
    plan.users = std::move(kept);
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// Whether every later call would fail alike (not allowed, no daemon, a
// daemon without ImportTokens): then none is made.
bool stops_every_call(const ipc::Outcome& outcome) {
    return outcome.kind != ipc::Outcome::Kind::Refused || outcome.error == ipc::Error::AccessDenied;
}

std::string call_failure(const ipc::Outcome& outcome, const UserImport& user) {
    if (outcome.refused_with(ipc::Error::AccessDenied)) {
        return "access denied: only root and members of the apitoken-admin group may import "
               "tokens (" +
               outcome.message + ")";
    }
    return failure_message(outcome, whose(user.local_user));
}

// One ImportTokens call per Jenkins user; a failed call is said on stderr
// and its tokens reported as not imported. After a failure that every call
// would share, the remaining users are reported without calling.
void import_users(ipc::Client& client, const std::vector<UserImport>& users,
                  const ImportJenkinsOptions& options, ImportReport& report) {
    std::string stopped; // why no more calls are made
    for (const UserImport& user : users) {
        if (!stopped.empty()) {
            add_failure(user, stopped, report);
            continue;
        }
        if (const auto too_many = too_many_tokens(user)) {
            std::cerr << "apitokenctl: import-jenkins: " << shown(user.jenkins_user) << ": "
                      << *too_many << '\n';
            add_failure(user, *too_many, report);
            continue;
        }
        std::vector<ipc::ImportResult> results;
        const ipc::Outcome outcome = client.import_tokens(
            user.local_user, import_entries(user, options.services, options.dry_run), results);
        if (outcome.ok()) {
            add_results(user, results, report);
            continue;
        }
        const std::string error = call_failure(outcome, user);
        std::cerr << "apitokenctl: import-jenkins: " << shown(user.jenkins_user) << ": " << error
                  << '\n';
        add_failure(user, first_line(error), report);
        if (stops_every_call(outcome)) {
            stopped = first_line(error);
        }
    }
}

void print_report(const GlobalOptions& global, const ImportReport& report) {
    if (global.json) {
        std::cout << json_text(report_json(report), 2) << '\n';
        return;
    }
    for (const std::string& line : report_lines(report)) {
        std::cout << line << '\n';
    }
}

} // namespace

int run_import_jenkins(ipc::Client& client, const GlobalOptions& global,
                       const ImportJenkinsOptions& options) {
    UserMap map;
    if (!options.user_map.empty()) {
        UserMapParse parsed = read_user_map(options.user_map);
        if (!parsed.map) {
            return usage_error("import-jenkins: --user-map: " + parsed.error);
        }
        map = std::move(*parsed.map);
    }
    std::error_code error;
    if (!std::filesystem::is_directory(options.home, error)) {
        return usage_error("import-jenkins: " + shown(options.home) +
                           ": not a directory (give the JENKINS_HOME, the directory that holds "
                           "users/)");
    }
    const jenkins::JenkinsHome home = jenkins::read_jenkins_home(options.home);
    ImportPlan plan = plan_import(home, map, local_user_exists, now_seconds());
    skip_system_accounts(map, plan);
    ImportReport report;
    report.dry_run = options.dry_run;
    report.skipped = plan.skipped;
    report.problems = home.problems;
    import_users(client, plan.users, options, report);
    print_report(global, report);
    return import_exit_status(report);
}

} // namespace apitoken::cli
