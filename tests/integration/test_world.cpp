#include "tests/integration/test_world.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/pam_wrapper_harness.hpp"

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string word; in >> word;) {
        out.push_back(word);
    }
    return out;
}

CallResult parse_call(const ProcessResult& result) {
    CallResult call;
    call.raw = result.out + result.err;
    std::istringstream in(result.out);
    std::string first;
    std::getline(in, first);
    auto w = words(first);
    if (w.empty()) {
        call.status = "failed";
        return call;
    }
    call.status = w[0];
    if (call.status == "refused" && w.size() > 1) {
        call.error = w[1];
    }
    call.fields.assign(w.begin() + 1, w.end());
    for (std::string line; std::getline(in, line);) {
        call.lines.push_back(line);
    }
    return call;
}

std::string join_gids(const std::vector<gid_t>& gids) {
    std::string out;
    for (const gid_t gid : gids) {
        out += (out.empty() ? "" : ",") + std::to_string(gid);
    }
    return out;
}

// The caller's identity via setpriv, as the issue asks: real uid, gid and
// supplementary groups, so the bus sees exactly what a real process has.
std::vector<std::string> as_user(const TestUser& user) {
    if (user.uid == 0) {
        return {};
    }
    std::vector<std::string> prefix{APITOKEN_SETPRIV, "--reuid=" + std::to_string(user.uid),
                                    "--regid=" + std::to_string(user.uid)};
    prefix.push_back(user.groups.empty() ? "--clear-groups" : "--groups=" + join_gids(user.groups));
    prefix.emplace_back("--");
    return prefix;
}

int bind_notify_socket(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("cannot bind the notify socket");
    }
    ::chmod(path.c_str(), 0777); // the daemon runs as another uid
    return fd;
}

// Waits for a datagram containing READY=1 from the daemon.
bool wait_ready(int fd, BackgroundProcess& daemon, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, MSG_DONTWAIT);
        if (n > 0 && std::string_view(buffer, static_cast<std::size_t>(n)).find("READY=1") !=
                         std::string_view::npos) {
            return true;
        }
        if (!daemon.running()) {
            return false;
        }
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

} // namespace

TestWorld::TestWorld() {
    // Callers of other uids must reach the bus socket inside.
    std::filesystem::permissions(
        dir_.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                         std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                         std::filesystem::perms::others_exec);
    for (const auto* user : {&root, &daemon_user, &alice, &bob, &www, &admin}) {
        passwd_[user->name] = user->uid;
    }
    write_nss_files();
    set_config("");
    std::filesystem::create_directory(state_dir());
    std::filesystem::create_directory(direct_socket().parent_path());
    if (::chown(state_dir().c_str(), daemon_user.uid, daemon_user.uid) != 0 ||
        ::chown(direct_socket().parent_path().c_str(), daemon_user.uid, daemon_user.uid) != 0) {
        throw std::runtime_error("cannot chown the state directory");
    }
    start_bus();
}

TestWorld::~TestWorld() {
    daemon_.reset();
    bus_.reset();
    if (notify_fd_ >= 0) {
        ::close(notify_fd_);
    }
}

// nss_wrapper reloads a file when its inode changes, so each version is
// written beside it and renamed over it.
void TestWorld::write_nss_files() const {
    {
        std::ofstream passwd(dir_ / "passwd.new");
        for (const auto& [name, uid] : passwd_) {
            passwd << name << ":x:" << uid << ':' << uid << "::/nonexistent:/usr/sbin/nologin\n";
        }
        std::ofstream group(dir_ / "group.new");
        for (const auto& [name, uid] : passwd_) {
            group << name << ":x:" << uid << ":\n";
        }
        group << "apitoken-auth:x:" << kAuthGroup << ":www\n";
        group << "apitoken-admin:x:" << kAdminGroup << ":admin\n";
    }
    std::filesystem::rename(dir_ / "passwd.new", dir_ / "passwd");
    std::filesystem::rename(dir_ / "group.new", dir_ / "group");
}

Environment TestWorld::nss_environment() const {
    // Under ASan the preloaded wrapper comes before the ASan runtime, which
    // ASan would refuse by default; the order is harmless here.
    const char* asan = std::getenv("ASAN_OPTIONS"); // NOLINT(concurrency-mt-unsafe)
    const std::string asan_options =
        std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0";
    // nss_wrapper finds libc's own functions (gethostname, which the daemon
    // calls for host-limited tokens) with RTLD_DEEPBIND, which ASan refuses.
    return {"ASAN_OPTIONS=" + asan_options, std::string("LD_PRELOAD=") + APITOKEN_NSS_WRAPPER,
            "NSS_WRAPPER_DISABLE_DEEPBIND=1", "NSS_WRAPPER_PASSWD=" + (dir_ / "passwd").string(),
            "NSS_WRAPPER_GROUP=" + (dir_ / "group").string()};
}

std::string TestWorld::bus_address() const {
    return "unix:path=" + (dir_ / "bus").string();
}

void TestWorld::start_bus() {
    // The bus resolves user="apitoken" in our policy file through NSS, so it
    // gets the wrapper too.
    bus_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{APITOKEN_DBUS_DAEMON,
                                 std::string("--config-file=") + APITOKEN_TEST_BUS_CONFIG,
                                 "--address=" + bus_address(), "--nofork", "--nopidfile"},
        nss_environment(), dir_ / "bus.log");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!std::filesystem::exists(dir_ / "bus")) {
        if (std::chrono::steady_clock::now() > deadline || !bus_->running()) {
            throw std::runtime_error("dbus-daemon did not start: " + bus_->log_text());
        }
        std::this_thread::sleep_for(5ms);
    }
}

void TestWorld::set_config(const std::string& text) {
    std::ofstream(dir_ / "apitokend.conf") << text;
}

bool TestWorld::daemon_under_valgrind() {
    const char* wanted =
        std::getenv("APITOKEN_TEST_DAEMON_UNDER_VALGRIND"); // NOLINT(concurrency-mt-unsafe)
    return wanted != nullptr && std::string_view(wanted) == "1" &&
           !std::string_view(APITOKEN_VALGRIND).empty();
}

std::vector<std::string> TestWorld::daemon_command(const std::vector<std::string>& extra) const {
    std::vector<std::string> argv = as_user(daemon_user);
    if (daemon_under_valgrind()) {
        // Memcheck's exit code 99 when it found errors: stop_daemon() reports it.
        argv.insert(argv.end(), {APITOKEN_VALGRIND, "--quiet", "--error-exitcode=99",
                                 "--leak-check=full", "--errors-for-leak-kinds=definite",
                                 "--show-leak-kinds=definite", "--track-fds=no"});
    }
    argv.insert(argv.end(), {APITOKEN_DAEMON, "--config=" + (dir_ / "apitokend.conf").string()});
    const bool own_state_dir = std::any_of(extra.begin(), extra.end(), [](const std::string& arg) {
        return arg.starts_with("--state-dir=");
    });
    if (!own_state_dir) {
        argv.push_back("--state-dir=" + state_dir().string());
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

void TestWorld::start_daemon(bool debug) {
    launch_daemon(
        daemon_command(debug ? std::vector<std::string>{"--debug"} : std::vector<std::string>{}));
}

// As systemd starts it from apitokend.socket: the listening socket (the
// test's own, so that it outlives the daemon) as descriptor 3, with
// LISTEN_FDS=1 and LISTEN_PID naming the daemon's process (the shell's,
// which execs into it; bash, which takes descriptors above 9).
void TestWorld::start_daemon_on_socket(int listen_fd) {
    const std::string fd = std::to_string(listen_fd);
    std::vector<std::string> argv = {
        "/bin/bash", "-c",
        "export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$@\" 3<&" + fd + " " + fd + "<&-", "sh"};
    const std::vector<std::string> daemon = daemon_command({});
    argv.insert(argv.end(), daemon.begin(), daemon.end());
    launch_daemon(argv);
}

void TestWorld::launch_daemon(const std::vector<std::string>& argv) {
    if (notify_fd_ < 0) {
        notify_fd_ = bind_notify_socket(dir_ / "notify");
    }
    Environment env = nss_environment();
    env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + bus_address());
    env.push_back("NOTIFY_SOCKET=" + (dir_ / "notify").string());
    env.push_back("APITOKEN_SOCKET=" + direct_socket().string());
    daemon_ = std::make_unique<BackgroundProcess>(argv, env, dir_ / "daemon.log");
    if (!wait_ready(notify_fd_, *daemon_, 20s)) {
        const std::string log = daemon_->log_text();
        daemon_.reset();
        throw std::runtime_error("apitokend did not become ready:\n" + log);
    }
}

int TestWorld::stop_daemon() {
    if (!daemon_) {
        return -1;
    }
    daemon_->signal(SIGTERM);
    const int code = daemon_->wait(daemon_under_valgrind() ? 60s : 20s);
    if (code == kValgrindFoundErrors && daemon_under_valgrind()) {
        valgrind_reports_ += daemon_->log_text();
    }
    return code;
}

std::string TestWorld::finish_valgrind_run() {
    if (daemon_under_valgrind() && daemon_ && daemon_->running()) {
        stop_daemon();
    }
    return valgrind_reports_;
}

void TestWorld::kill_daemon() {
    if (daemon_) {
        daemon_->signal(SIGKILL);
        daemon_->wait(20s);
    }
}

int TestWorld::kill_bus_and_wait_for_daemon() {
    bus_->signal(SIGKILL);
    bus_->wait(10s);
    return daemon_ ? daemon_->wait(20s) : -1;
}

ProcessResult TestWorld::run_daemon_once(const std::vector<std::string>& extra_args) {
    Environment env = nss_environment();
    env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + bus_address());
    env.push_back("APITOKEN_SOCKET=" + direct_socket().string());
    return run_process(daemon_command(extra_args), env, 20s);
}

std::string TestWorld::daemon_log() const {
    return daemon_log_of("daemon.log");
}

std::string TestWorld::daemon_log_of(const std::string& file) const {
    std::ifstream in(dir_ / file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

pid_t TestWorld::daemon_pid() const {
    return daemon_ ? daemon_->pid() : -1;
}

long TestWorld::daemon_peak_rss_kib() const {
    std::ifstream status("/proc/" + std::to_string(daemon_pid()) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:")) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

CallResult TestWorld::call(const TestUser& user, const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) const {
    std::vector<std::string> argv = as_user(user);
    argv.emplace_back(APITOKEN_TEST_CALL);
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_call(run_process(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_address()}, timeout));
}

Environment TestWorld::direct_environment() const {
    return {"APITOKEN_SOCKET=" + direct_socket().string(),
            "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + (dir_ / "no-bus-here").string()};
}

CallResult TestWorld::call_direct(const TestUser& user, const std::vector<std::string>& args,
                                  std::chrono::milliseconds timeout) const {
    std::vector<std::string> argv = as_user(user);
    argv.emplace_back(APITOKEN_TEST_CALL);
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_call(run_process(argv, direct_environment(), timeout));
}

void TestWorld::add_user(const std::string& name, uid_t uid) {
    passwd_[name] = uid;
    write_nss_files();
}

void TestWorld::remove_user(const std::string& name) {
    passwd_.erase(name);
    write_nss_files();
}

void TestWorld::change_uid(const std::string& name, uid_t uid) {
    passwd_[name] = uid;
    write_nss_files();
}

void TestWorld::write_pam_service(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(dir_ / "pam.d");
    std::filesystem::permissions(dir_ / "pam.d", std::filesystem::perms::owner_all |
                                                     std::filesystem::perms::group_read |
                                                     std::filesystem::perms::group_exec |
                                                     std::filesystem::perms::others_read |
                                                     std::filesystem::perms::others_exec);
    std::ofstream(dir_ / "pam.d" / name) << text;
}

Environment TestWorld::pam_environment() const {
    const char* asan = std::getenv("ASAN_OPTIONS"); // NOLINT(concurrency-mt-unsafe)
    return {
        std::string("LD_PRELOAD=") + APITOKEN_ASAN_RUNTIME + APITOKEN_PAM_WRAPPER, "PAM_WRAPPER=1",
        "PAM_WRAPPER_SERVICE_DIR=" + (dir_ / "pam.d").string(), "PAM_WRAPPER_DEBUGLEVEL=2",
        // pam_wrapper's RTLD_DEEPBIND does not mix with sanitizers and valgrind.
        "PAM_WRAPPER_DISABLE_DEEPBIND=1",
        // pam_wrapper 1.1.4 (Debian 12) reads the uid_wrapper name instead.
        "UID_WRAPPER_DISABLE_DEEPBIND=1", "NSS_WRAPPER_DISABLE_DEEPBIND=1",
        "ASAN_OPTIONS=" + std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0",
        "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address()};
}

void TestWorld::use_pam_environment_here() const {
    for (const auto& entry : pam_environment()) {
        const auto eq = entry.find('=');
        if (entry.compare(0, eq, "LD_PRELOAD") != 0) {
            // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread reads it now
            ::setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
        }
    }
}

ProcessResult TestWorld::pamtester(const TestUser& as, const std::string& service,
                                   const std::string& user, const std::string& input,
                                   const Environment& extra_env,
                                   const std::vector<std::string>& wrapper) const {
    std::vector<std::string> argv = as_user(as);
    argv.insert(argv.end(), wrapper.begin(), wrapper.end());
    argv.insert(argv.end(), {APITOKEN_PAMTESTER, "-v", service, user, "authenticate"});
    return run_pam_program(argv, input, extra_env);
}

ProcessResult TestWorld::run_pam_program(const std::vector<std::string>& argv,
                                         const std::string& input,
                                         const Environment& extra_env) const {
    Environment env = pam_environment();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return run_pam_wrapped(argv, env, input);
}

ProcessResult TestWorld::run_as(const TestUser& user, const std::vector<std::string>& argv,
                                const std::string& input, const Environment& extra_env) const {
    std::vector<std::string> command = as_user(user);
    command.insert(command.end(), argv.begin(), argv.end());
    Environment env{"DBUS_SYSTEM_BUS_ADDRESS=" + bus_address()};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return run_process(command, env, 60s, input);
}

std::unique_ptr<BackgroundProcess> TestWorld::start_as(const TestUser& user,
                                                       const std::vector<std::string>& argv,
                                                       const std::string& log_name) const {
    std::vector<std::string> command = as_user(user);
    command.insert(command.end(), argv.begin(), argv.end());
    return std::make_unique<BackgroundProcess>(
        command, Environment{"DBUS_SYSTEM_BUS_ADDRESS=" + bus_address()}, dir_ / log_name);
}

std::unique_ptr<BackgroundProcess> TestWorld::start_silent_owner() const {
    auto silent = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{APITOKEN_SILENT_OWNER},
        Environment{"DBUS_SYSTEM_BUS_ADDRESS=" + bus_address()}, dir_ / "silent.log");
    for (int i = 0; i < 500 && daemon_log_of("silent.log").find("ready") == std::string::npos;
         ++i) {
        std::this_thread::sleep_for(10ms);
    }
    return silent;
}

} // namespace apitoken::testing
