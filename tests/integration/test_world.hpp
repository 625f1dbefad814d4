#pragma once

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::testing {

// A user of the test world: known to the bus and the daemon through
// nss_wrapper, and impersonated for real (setpriv) when calling.
struct TestUser {
    std::string name;
    uid_t uid = 0;
    std::vector<gid_t> groups; // supplementary groups the caller runs with
};

// The reply of one apitoken-test-call run, split into its words.
// pamtester's verdict: exit 0 and its "successfully authenticated" line.
[[nodiscard]] inline bool login_succeeded(const ProcessResult& r) {
    return r.exit_code == 0 && r.out.find("successfully authenticated") != std::string::npos;
}

struct CallResult {
    std::string status; // ok, refused, unavailable, failed
    std::string error;  // for refused: the short error name (AccessDenied, ...)
    std::vector<std::string> fields;
    std::vector<std::string> lines; // list: the token lines
    std::string raw;

    [[nodiscard]] bool ok() const { return status == "ok"; }
    [[nodiscard]] bool refused(const std::string& name) const {
        return status == "refused" && error == name;
    }
};

// A private world for one test: users and groups (nss_wrapper files), a
// private dbus-daemon that uses the project's real policy file, and
// apitokend running as the unprivileged "apitoken" user against a temporary
// state directory. Needs root (to impersonate users); tests skip otherwise.
class TestWorld {
public:
    TestWorld();
    TestWorld(const TestWorld&) = delete;
    TestWorld& operator=(const TestWorld&) = delete;
    TestWorld(TestWorld&&) = delete;
    TestWorld& operator=(TestWorld&&) = delete;
    ~TestWorld();

    static constexpr gid_t kAuthGroup = 61900;
    static constexpr gid_t kAdminGroup = 61901;

    const TestUser root{"root", 0, {}};
    const TestUser daemon_user{"apitoken", 61000, {}};
    const TestUser alice{"alice", 61001, {}};
    const TestUser bob{"bob", 61002, {}};
    const TestUser www{"www", 61003, {kAuthGroup}};
    const TestUser admin{"admin", 61004, {kAdminGroup}};

    // apitokend.conf for the next start_daemon().
    void set_config(const std::string& text);
    // Starts apitokend and waits for READY=1; fails the test when it exits.
    void start_daemon(bool debug = false);
    // Starts apitokend on `listen_fd` as its direct socket, the way systemd
    // passes apitokend.socket (socket activation). The fd must not be 3.
    void start_daemon_on_socket(int listen_fd);
    // Sends SIGTERM and waits; returns the exit code.
    int stop_daemon();
    // With APITOKEN_TEST_DAEMON_UNDER_VALGRIND=1 in the environment (the
    // suite's valgrind run in scripts/run-tests.sh), every daemon runs under
    // memcheck and stop_daemon() returns kValgrindFoundErrors when it found any.
    static constexpr int kValgrindFoundErrors = 99;
    [[nodiscard]] static bool daemon_under_valgrind();
    // Whether the daemon's RSS means what it says: not under ASan (freed
    // memory waits in its quarantine) nor valgrind (its own shadow memory).
    [[nodiscard]] static bool daemon_memory_is_measurable() {
        return !sanitized() && !daemon_under_valgrind();
    }
    // Whether this is the ASan+UBSan build: every process of the world
    // (daemon, PAM programs, clients) is instrumented and starts slowly.
    [[nodiscard]] static bool sanitized() {
        return !std::string_view(APITOKEN_ASAN_RUNTIME).empty();
    }
    // Stops the daemon under valgrind if it still runs; the logs of every
    // daemon of this world that memcheck found errors in ("" when none).
    std::string finish_valgrind_run();
    // kill -9: no chance to write anything.
    void kill_daemon();
    // Stops the bus under the daemon; returns the daemon's exit code.
    int kill_bus_and_wait_for_daemon();
    // Starts another apitokend with these arguments and waits for its exit.
    ProcessResult run_daemon_once(const std::vector<std::string>& extra_args);
    [[nodiscard]] std::string daemon_log() const;
    // The text of a log file in the world's directory.
    [[nodiscard]] std::string daemon_log_of(const std::string& file) const;
    [[nodiscard]] pid_t daemon_pid() const;
    // The daemon's peak resident memory so far (VmHWM).
    [[nodiscard]] long daemon_peak_rss_kib() const;

    // apitokend's direct socket in this world (APITOKEN_SOCKET for the
    // daemon); clients reach it only when told (direct_environment()).
    [[nodiscard]] std::filesystem::path direct_socket() const { return dir_ / "run" / "socket"; }
    // For a client that must use the direct socket: APITOKEN_SOCKET, and a
    // system bus address where no bus is, so that the fallback fails.
    [[nodiscard]] Environment direct_environment() const;
    // apitoken-test-call as `user` over the direct socket only.
    [[nodiscard]] CallResult
    call_direct(const TestUser& user, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

    // Runs apitoken-test-call as `user`.
    [[nodiscard]] CallResult
    call(const TestUser& user, const std::vector<std::string>& args,
         std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

    // Adds a user to the world's passwd file (to match a real one).
    void add_user(const std::string& name, uid_t uid);
    // Rewrites the passwd file: users can be deleted or get another uid.
    void remove_user(const std::string& name);
    void change_uid(const std::string& name, uid_t uid);

    // PAM through pam_wrapper: service files in dir()/pam.d.
    void write_pam_service(const std::string& name, const std::string& text) const;
    [[nodiscard]] Environment pam_environment() const;
    // Points this process, as a PAM application, at the world: the
    // pam_environment() without LD_PRELOAD (pam_wrapper is loaded already,
    // or not wanted). Only while no other thread reads the environment.
    void use_pam_environment_here() const;
    // `pamtester SERVICE USER authenticate` as `as`, `input` on stdin;
    // `wrapper` runs it under another program (valgrind). A run that
    // pam_wrapper itself failed (no /tmp/pam.X name free) is run again.
    ProcessResult pamtester(const TestUser& as, const std::string& service, const std::string& user,
                            const std::string& input, const Environment& extra_env = {},
                            const std::vector<std::string>& wrapper = {}) const;
    // Any program that runs PAM here (pam_environment()), `input` on stdin,
    // run again like pamtester when pam_wrapper failed it.
    ProcessResult run_pam_program(const std::vector<std::string>& argv, const std::string& input,
                                  const Environment& extra_env = {}) const;
    // Runs a program as `user` (setpriv), pointed at this world's bus
    // (`extra_env` added).
    ProcessResult run_as(const TestUser& user, const std::vector<std::string>& argv,
                         const std::string& input = {}, const Environment& extra_env = {}) const;
    // Starts a program as `user` in the background, its output in the log
    // file `log_name` in the world's directory (daemon_log_of()).
    [[nodiscard]] std::unique_ptr<BackgroundProcess> start_as(const TestUser& user,
                                                              const std::vector<std::string>& argv,
                                                              const std::string& log_name) const;
    // Starts a process that owns io.apitoken1 and never answers.
    [[nodiscard]] std::unique_ptr<BackgroundProcess> start_silent_owner() const;

    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    [[nodiscard]] std::filesystem::path state_dir() const { return dir_ / "state"; }
    [[nodiscard]] std::string bus_address() const;
    [[nodiscard]] Environment nss_environment() const;

private:
    void write_nss_files() const;
    void start_bus();
    void launch_daemon(const std::vector<std::string>& argv);
    std::vector<std::string> daemon_command(const std::vector<std::string>& extra) const;

    TempDir dir_;
    std::map<std::string, uid_t> passwd_;
    std::unique_ptr<BackgroundProcess> bus_;
    std::unique_ptr<BackgroundProcess> daemon_;
    int notify_fd_ = -1;
    std::string valgrind_reports_;
};

} // namespace apitoken::testing
