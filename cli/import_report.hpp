#pragma once

// What apitokenctl import-jenkins says: one line (or JSON object) per
// Jenkins token (imported, already imported, would import, skipped and why,
// not imported and why), the problems found in the JENKINS_HOME, a summary,
// and the exit status. Never a hash; every name and path escaped for
// people, and kept as it is (when UTF-8) in JSON.

#include "cli/jenkins_import.hpp"
#include "ipc/bus_client.hpp"
#include "jenkins/jenkins_records.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace apitoken::cli {

// A token apitokend answered for.
struct ImportedToken {
    std::string jenkins_user;
    std::string user; // the local user
    std::string jenkins_uuid;
    std::string jenkins_name;
    std::string id;     // apitoken id (as answered; may be empty in a dry run)
    std::string name;   // apitoken name (made unique by apitokend)
    std::string result; // ipc::import_result::k*
};

// A token not imported because its ImportTokens call failed (the whole
// call: nothing of that user was imported) or could not be made (too many
// tokens), or because apitokend did not answer for it.
struct FailedToken {
    std::string jenkins_user;
    std::string user;
    std::string jenkins_uuid;
    std::string jenkins_name;
    std::string error; // one line
};

struct ImportReport {
    std::vector<ImportedToken> tokens;
    std::vector<Skipped> skipped;
    std::vector<FailedToken> failed;
    std::vector<jenkins::Problem> problems;
    bool dry_run = false;
};

// Adds what one ImportTokens call answered: each token sent matched to its
// result by uuid; a token left unanswered becomes a FailedToken.
void add_results(const UserImport& sent, const std::vector<ipc::ImportResult>& results,
                 ImportReport& report);
// Adds every token of `sent` as failed with `error`.
void add_failure(const UserImport& sent, const std::string& error, ImportReport& report);

// `alice: "ci" → "ci" (id 0123456789ab): imported`; a mapped user reads
// `jenkins-bot (as alice): ...`; results: imported, already imported,
// would import (dry run).
[[nodiscard]] std::string token_line(const ImportedToken& token, bool dry_run);
// `ghost: "robot": skipped: no local user ghost`.
[[nodiscard]] std::string skipped_line(const Skipped& skipped);
// `alice: "ci": not imported: ERROR`.
[[nodiscard]] std::string failed_line(const FailedToken& failed);
// `problem: PATH: MESSAGE`.
[[nodiscard]] std::string problem_line(const jenkins::Problem& problem);
// `2 imported, 1 already imported, 3 skipped`, then `, 1 not imported
// (failed)` and `; 2 problems in files` when there are any (dry run: `2
// would be imported, ...; dry run, nothing stored`).
[[nodiscard]] std::string summary_line(const ImportReport& report);
// Tokens (in the order answered), skipped, failed, problems, summary.
[[nodiscard]] std::vector<std::string> report_lines(const ImportReport& report);

// {"imported": [TOKEN...], "already_imported": [TOKEN...], "skipped":
// [{jenkins_user, jenkins_name, jenkins_uuid, reason}], "failed":
// [{jenkins_user, user, jenkins_uuid, jenkins_name, error}], "problems":
// [{path, message}], "dry_run": bool}; TOKEN: {jenkins_user, user,
// jenkins_uuid, jenkins_name, id, name, result}.
[[nodiscard]] nlohmann::json report_json(const ImportReport& report);

// 1 when something could not be imported (a problem in a file, a failed
// or impossible call); else 0. Skipped users without a local account and
// expired tokens are reports, not failures.
[[nodiscard]] int import_exit_status(const ImportReport& report);

} // namespace apitoken::cli
