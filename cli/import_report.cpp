#include "cli/import_report.hpp"

#include "cli/exit_status.hpp"
#include "cli/output.hpp"
#include "ipc/bus_api.hpp"

#include <algorithm>

namespace apitoken::cli {
namespace {

using nlohmann::json;
namespace import_result = ipc::import_result;

std::string quoted(const std::string& name) {
    return "\"" + shown(name) + "\"";
}

// "alice" or "jenkins-bot (as alice)".
std::string who(const std::string& jenkins_user, const std::string& user) {
    std::string text = shown(jenkins_user);
    if (user != jenkins_user) {
        text += " (as " + shown(user) + ")";
    }
    return text;
}

std::string result_text(const std::string& result, bool dry_run) {
    if (result == import_result::kImported) {
        return dry_run ? "would import" : "imported";
    }
    if (result == import_result::kAlreadyImported) {
        return "already imported";
    }
    return shown(result);
}

std::string count_text(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

json token_json(const ImportedToken& token) {
    return {{"jenkins_user", json_safe_text(token.jenkins_user)},
            {"user", json_safe_text(token.user)},
            {"jenkins_uuid", json_safe_text(token.jenkins_uuid)},
            {"jenkins_name", json_safe_text(token.jenkins_name)},
            {"id", json_safe_text(token.id)},
            {"name", json_safe_text(token.name)},
            {"result", json_safe_text(token.result)}};
}

json skipped_json(const Skipped& skipped) {
    return {{"jenkins_user", json_safe_text(skipped.jenkins_user)},
            {"jenkins_name", json_safe_text(skipped.token_name)},
            {"jenkins_uuid", json_safe_text(skipped.token_uuid)},
            {"reason", json_safe_text(skipped.reason)}};
}

json failed_json(const FailedToken& failed) {
    return {{"jenkins_user", json_safe_text(failed.jenkins_user)},
            {"user", json_safe_text(failed.user)},
            {"jenkins_uuid", json_safe_text(failed.jenkins_uuid)},
            {"jenkins_name", json_safe_text(failed.jenkins_name)},
            {"error", json_safe_text(failed.error)}};
}

std::size_t count_result(const ImportReport& report, const char* result) {
    return static_cast<std::size_t>(
        std::count_if(report.tokens.begin(), report.tokens.end(),
                      [&](const ImportedToken& t) { return t.result == result; }));
}

} // namespace

void add_results(const UserImport& sent, const std::vector<ipc::ImportResult>& results,
                 ImportReport& report) {
    for (const jenkins::JenkinsToken& token : sent.tokens) {
        const auto answer =
            std::find_if(results.begin(), results.end(),
                         [&](const ipc::ImportResult& r) { return r.origin_id == token.uuid; });
        if (answer == results.end()) {
            report.failed.push_back({sent.jenkins_user, sent.local_user, token.uuid, token.name,
                                     "apitokend did not answer for this token"});
            continue;
        }
        report.tokens.push_back({sent.jenkins_user, sent.local_user, token.uuid, token.name,
                                 answer->id, answer->name, answer->result});
    }
}

void add_failure(const UserImport& sent, const std::string& error, ImportReport& report) {
    for (const jenkins::JenkinsToken& token : sent.tokens) {
        report.failed.push_back(
            {sent.jenkins_user, sent.local_user, token.uuid, token.name, error});
    }
}

std::string token_line(const ImportedToken& token, bool dry_run) {
    std::string line =
        who(token.jenkins_user, token.user) + ": " + quoted(token.jenkins_name) + " \u2192 ";
    line += quoted(token.name);
    if (!token.id.empty()) {
        line += " (id " + shown(token.id) + ")";
    }
    return line + ": " + result_text(token.result, dry_run);
}

std::string skipped_line(const Skipped& skipped) {
    return shown(skipped.jenkins_user) + ": " + quoted(skipped.token_name) +
           ": skipped: " + shown(skipped.reason);
}

std::string failed_line(const FailedToken& failed) {
    return who(failed.jenkins_user, failed.user) + ": " + quoted(failed.jenkins_name) +
           ": not imported: " + shown(failed.error);
}

std::string problem_line(const jenkins::Problem& problem) {
    return "problem: " + shown(problem.path.string()) + ": " + shown(problem.message);
}

std::string summary_line(const ImportReport& report) {
    const std::size_t imported = count_result(report, import_result::kImported);
    std::string line =
        std::to_string(imported) + (report.dry_run ? " would be imported" : " imported");
    line += ", " + std::to_string(count_result(report, import_result::kAlreadyImported)) +
            " already imported";
    line += ", " + std::to_string(report.skipped.size()) + " skipped";
    if (!report.failed.empty()) {
        line += ", " + std::to_string(report.failed.size()) + " not imported (failed)";
    }
    if (!report.problems.empty()) {
        line += "; " + count_text(report.problems.size(), "problem", "problems") + " in files";
    }
    return report.dry_run ? line + "; dry run, nothing stored" : line;
}

std::vector<std::string> report_lines(const ImportReport& report) {
    std::vector<std::string> lines;
    for (const ImportedToken& token : report.tokens) {
        lines.push_back(token_line(token, report.dry_run));
    }
    for (const Skipped& skipped : report.skipped) {
        lines.push_back(skipped_line(skipped));
    }
    for (const FailedToken& failed : report.failed) {
        lines.push_back(failed_line(failed));
    }
    for (const jenkins::Problem& problem : report.problems) {
        lines.push_back(problem_line(problem));
    }
    lines.push_back(summary_line(report));
    return lines;
}

json report_json(const ImportReport& report) {
    json out{{"imported", json::array()}, {"already_imported", json::array()},
             {"skipped", json::array()},  {"failed", json::array()},
             {"problems", json::array()}, {"dry_run", report.dry_run}};
    for (const ImportedToken& token : report.tokens) {
        const bool already = token.result == import_result::kAlreadyImported;
        out[already ? "already_imported" : "imported"].push_back(token_json(token));
    }
    for (const Skipped& skipped : report.skipped) {
        out["skipped"].push_back(skipped_json(skipped));
    }
    for (const FailedToken& failed : report.failed) {
        out["failed"].push_back(failed_json(failed));
    }
    for (const jenkins::Problem& problem : report.problems) {
        out["problems"].push_back({{"path", json_safe_text(problem.path.string())},
                                   {"message", json_safe_text(problem.message)}});
    }
    return out;
}

int import_exit_status(const ImportReport& report) {
    return report.problems.empty() && report.failed.empty() ? kExitOk : kExitFailed;
}

} // namespace apitoken::cli
