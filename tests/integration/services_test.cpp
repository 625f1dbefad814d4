// Real services from Debian accepting tokens through pam_apitoken.so, with
// their own real clients: nginx (auth_pam module, unprivileged workers in the
// auth group) with curl -u, and vsftpd with curl ftp://. Each test creates
// and removes its own users, groups, PAM service files and ports, and skips
// with a message when not root or when a service is not installed.
#include "tests/integration/world_test.hpp"

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

// A loopback port nobody listens on right now.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool listening(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

void wait_listening(int port, const BackgroundProcess& server) {
    for (int i = 0; i < 500 && !listening(port); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(listening(port)) << server.log_text();
}

// Removes what a test put on the host, whatever happens to the test.
class HostChanges {
public:
    HostChanges() = default;
    HostChanges(const HostChanges&) = delete;
    HostChanges& operator=(const HostChanges&) = delete;
    HostChanges(HostChanges&&) = delete;
    HostChanges& operator=(HostChanges&&) = delete;
    ~HostChanges() {
        for (const auto& path : files_) {
            std::error_code ignored;
            std::filesystem::remove(path, ignored);
        }
        for (const auto& user : users_) {
            run_process({"userdel", user});
        }
        for (const auto& group : groups_) {
            run_process({"groupdel", group});
        }
    }
    void file(const std::filesystem::path& path, const std::string& text) {
        files_.push_back(path);
        std::ofstream(path) << text;
    }
    // Only what was created here is removed later, never a user or group
    // that was there before.
    ProcessResult group(const std::string& name, gid_t gid) {
        wait_for_free_gid(gid);
        ProcessResult r = run_process({"groupadd", "--gid", std::to_string(gid), name});
        if (r.exit_code == 0) {
            groups_.push_back(name);
        }
        return r;
    }
    ProcessResult user(const std::string& name, const std::string& password,
                       const std::filesystem::path& home) {
        ProcessResult r = run_process({"useradd", "--no-create-home", "--home-dir", home.string(),
                                       "--shell", "/usr/sbin/nologin", name});
        if (r.exit_code == 0) {
            users_.push_back(name);
            r = run_process({"chpasswd"}, {}, 10s, name + ":" + password + "\n");
        }
        return r;
    }

private:
    // Our groups end in the pid of the test process that made them (unique()).
    // Another test running beside this one (ctest --parallel) holds the gid
    // until it ends: wait for it. One of a run killed by ctest's timeout
    // never reached its destructor: remove it.
    static void wait_for_free_gid(gid_t gid) {
        const auto deadline = std::chrono::steady_clock::now() + 150s;
        while (std::chrono::steady_clock::now() < deadline) {
            const ::group* existing = ::getgrgid(gid); // NOLINT(concurrency-mt-unsafe): one thread
            if (existing == nullptr) {
                return;
            }
            const std::string name = existing->gr_name;
            if (!name.starts_with("apitoken-test-")) {
                return; // not ours: groupadd says why it cannot
            }
            const auto digits = name.find_last_not_of("0123456789") + 1;
            const pid_t owner = static_cast<pid_t>(std::stol("0" + name.substr(digits)));
            if (owner <= 0 || (::kill(owner, 0) != 0 && errno == ESRCH)) {
                run_process({"groupdel", name});
            } else {
                std::this_thread::sleep_for(100ms);
            }
        }
    }

    std::vector<std::filesystem::path> files_;
    std::vector<std::string> users_;
    std::vector<std::string> groups_;
};

// What a real service needs to load our module: the world's bus and, in a
// sanitizer build, the ASan runtime first (the service itself is not
// instrumented; its own leaks are not ours to report).
Environment service_environment(const TestWorld& world) {
    Environment env{"DBUS_SYSTEM_BUS_ADDRESS=" + world.bus_address()};
    if (!std::string(APITOKEN_ASAN_RUNTIME).empty()) {
        env.push_back(std::string("LD_PRELOAD=") + APITOKEN_ASAN_RUNTIME);
        env.emplace_back("ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0");
    }
    return env;
}

std::string unique(const std::string& base) {
    return base + std::to_string(::getpid());
}

class ServicesTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
    }

    std::string create(const std::string& user, const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args{"create", user, "t" + std::to_string(counter_++), "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        const CallResult r = world->call(world->root, args);
        EXPECT_TRUE(r.ok()) << r.raw;
        return r.fields.size() > 1 ? r.fields[1] : "";
    }

    HostChanges host;
    mutable int counter_ = 0;
};

// HTTP status of curl -u user:password URL.
std::string http_status(int port, const std::string& user, const std::string& password) {
    const ProcessResult r = run_process(
        {APITOKEN_CURL, "--silent", "--output", "/dev/null", "--write-out", "%{http_code}",
         "--user", user + ":" + password, "http://127.0.0.1:" + std::to_string(port) + "/"});
    return r.out;
}

// nginx with auth_pam on a free loopback port, its workers running as
// www-data in our auth group (which the daemon, through nss_wrapper, knows
// as apitoken-auth: the real path for unprivileged services), checking
// through a PAM service with `module_options`. Returns the port.
int start_nginx(TestWorld& world, HostChanges& host, std::optional<BackgroundProcess>& nginx,
                const std::string& module_options = "") {
    const std::string group = unique("apitoken-test-auth");
    EXPECT_EQ(host.group(group, TestWorld::kAuthGroup).exit_code, 0);
    // dbus-daemon refuses connections from uids its NSS cannot resolve.
    world.add_user("www-data", 33);
    const std::string service = unique("apitoken-test-http");
    host.file("/etc/pam.d/" + service, "auth required " APITOKEN_PAM_MODULE " " + module_options +
                                           "\naccount required " APITOKEN_PAM_PERMIT "\n");

    const auto dir = world.dir() / "nginx";
    std::filesystem::create_directories(dir / "www");
    std::filesystem::create_directories(dir / "tmp");
    std::filesystem::permissions(dir / "tmp", std::filesystem::perms::all);
    std::ofstream(dir / "www" / "index.html") << "hello\n";
    const int port = free_port();
    std::ofstream(dir / "nginx.conf")
        << "load_module " APITOKEN_NGINX_AUTH_PAM ";\n"
        << "daemon off;\nworker_processes 1;\nuser www-data " << group << ";\n"
        << "pid " << (dir / "nginx.pid").string() << ";\nerror_log " << (dir / "error.log").string()
        << " info;\n"
        << "env DBUS_SYSTEM_BUS_ADDRESS;\nevents {}\nhttp {\n  access_log off;\n"
        << "  client_body_temp_path " << (dir / "tmp").string() << ";\n"
        << "  proxy_temp_path " << (dir / "tmp").string() << ";\n"
        << "  fastcgi_temp_path " << (dir / "tmp").string() << ";\n"
        << "  uwsgi_temp_path " << (dir / "tmp").string() << ";\n"
        << "  scgi_temp_path " << (dir / "tmp").string() << ";\n"
        << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << (dir / "www").string()
        << ";\n"
        << "    location / {\n      auth_pam \"apitoken\";\n      auth_pam_service_name \""
        << service << "\";\n    }\n  }\n}\n";
    nginx.emplace(std::vector<std::string>{APITOKEN_NGINX, "-c", (dir / "nginx.conf").string(),
                                           "-p", dir.string()},
                  service_environment(world), dir / "stderr.log");
    wait_listening(port, *nginx);
    return port;
}

bool nginx_installed() {
    return std::filesystem::exists(APITOKEN_NGINX) &&
           std::filesystem::exists(APITOKEN_NGINX_AUTH_PAM);
}

TEST_F(ServicesTest, NginxBasicAuthLikeJenkins) {
    if (!nginx_installed()) {
        GTEST_SKIP() << "nginx with libnginx-mod-http-auth-pam is not installed";
    }
    std::optional<BackgroundProcess> nginx;
    const int port = start_nginx(*world, host, nginx);
    const std::string token = create("alice");
    EXPECT_EQ(http_status(port, "alice", token), "200")
        << world->daemon_log() << world->daemon_log_of("nginx/error.log");
    EXPECT_EQ(http_status(port, "alice", "wrong"), "401");
    EXPECT_EQ(http_status(port, "bob", token), "401") << "alice's token is not bob's";
    const std::string scoped = create("alice", {"vsftpd"});
    EXPECT_EQ(http_status(port, "alice", scoped), "401") << "scoped to another service";
    const std::string expiring =
        world
            ->call(world->root, {"create", "alice", "soon", std::to_string(std::time(nullptr) + 2)})
            .fields.at(1);
    EXPECT_EQ(http_status(port, "alice", expiring), "200");
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(http_status(port, "alice", expiring), "401") << "expired";
    ASSERT_TRUE(world->call(world->root, {"revoke", "alice", token.substr(4, 12)}).ok());
    EXPECT_EQ(http_status(port, "alice", token), "401") << "revoked";
    EXPECT_NE(world->daemon_log().find(R"(caller_uid="33")"), std::string::npos)
        << "checked by the unprivileged worker (www-data): " << world->daemon_log();
}

// A Jenkins API token, imported with apitokenctl import-jenkins, works
// unchanged with curl -u against a PAM-protected nginx (jenkins_tokens on
// the PAM line), and stops after revoke. The fixture's clear text is in
// tests/jenkins/fixture/README.md.
TEST_F(ServicesTest, NginxAcceptsAnImportedJenkinsToken) {
    if (!nginx_installed()) {
        GTEST_SKIP() << "nginx with libnginx-mod-http-auth-pam is not installed";
    }
    const std::string jenkins_token = "1147c3b70068c7b5573342ebb6ddc7f6ae";
    Environment env = world->nss_environment();
    env.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + world->bus_address());
    const ProcessResult imported = run_process(
        {APITOKEN_CTL, "import-jenkins",
         (std::filesystem::path(APITOKEN_JENKINS_FIXTURE) / "jenkins_home").string(), "--json"},
        env, 60s);
    ASSERT_NE(imported.exit_code, 2) << imported.err;
    std::string id;
    const nlohmann::json report = nlohmann::json::parse(imported.out);
    for (const auto& token : report.at("imported")) {
        if (token.at("jenkins_uuid") == "23a7c9c5-0193-493f-a74b-db4d52c32346") {
            id = token.at("id").get<std::string>();
        }
    }
    ASSERT_EQ(id.size(), 12U) << imported.out;

    std::optional<BackgroundProcess> nginx;
    const int port = start_nginx(*world, host, nginx, "jenkins_tokens");
    EXPECT_EQ(http_status(port, "alice", jenkins_token), "200")
        << world->daemon_log() << world->daemon_log_of("nginx/error.log");
    EXPECT_EQ(http_status(port, "alice", jenkins_token), "200") << "after its re-hash";
    EXPECT_EQ(http_status(port, "bob", jenkins_token), "401") << "alice's token is not bob's";
    ASSERT_TRUE(world->call(world->root, {"revoke", "alice", id}).ok());
    EXPECT_EQ(http_status(port, "alice", jenkins_token), "401") << "revoked";
}

TEST_F(ServicesTest, VsftpdAcceptsATokenOrThePassword) {
    if (!std::filesystem::exists(APITOKEN_VSFTPD)) {
        GTEST_SKIP() << "vsftpd is not installed";
    }
    if (!std::string(APITOKEN_ASAN_RUNTIME).empty()) {
        GTEST_SKIP() << "vsftpd limits its sessions' address space, which the ASan runtime "
                        "cannot live with; this test runs in the plain build";
    }
    const auto dir = world->dir() / "vsftpd";
    std::filesystem::create_directories(dir / "empty");
    std::filesystem::create_directories(dir / "home");
    const std::string user = unique("apitk");
    ASSERT_EQ(host.user(user, "correct horse battery", dir / "home").exit_code, 0);
    passwd entry{};
    passwd* pw = nullptr;
    std::vector<char> buffer(4096);
    ASSERT_EQ(::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &pw), 0);
    ASSERT_NE(pw, nullptr);
    world->add_user(user, pw->pw_uid); // the daemon sees the same user
    const std::string service = unique("apitoken-test-ftp");
    host.file("/etc/pam.d/" + service, "auth sufficient " APITOKEN_PAM_MODULE "\n"
                                       "auth required pam_unix.so try_first_pass\n"
                                       "account required " APITOKEN_PAM_PERMIT "\n");
    const int port = free_port();
    std::ofstream(dir / "vsftpd.conf")
        << "listen=YES\nlisten_address=127.0.0.1\nlisten_port=" << port << "\nbackground=NO\n"
        << "anonymous_enable=NO\nlocal_enable=YES\nwrite_enable=NO\npam_service_name=" << service
        << "\n"
        << "secure_chroot_dir=" << (dir / "empty").string()
        << "\nlocal_root=" << (dir / "home").string()
        << "\nseccomp_sandbox=NO\ncheck_shell=NO\npasv_enable=YES\npasv_min_port=40000\n"
        << "pasv_max_port=40100\nvsftpd_log_file=" << (dir / "vsftpd.log").string() << "\n";
    ::chmod((dir / "vsftpd.conf").c_str(), 0600);
    BackgroundProcess vsftpd({APITOKEN_VSFTPD, (dir / "vsftpd.conf").string()},
                             service_environment(*world), dir / "stderr.log");
    wait_listening(port, vsftpd);

    std::string last_error;
    const auto ftp = [&](const std::string& password) {
        const ProcessResult r =
            run_process({APITOKEN_CURL, "--silent", "--show-error", "--list-only", "--user",
                         user + ":" + password, "ftp://127.0.0.1:" + std::to_string(port) + "/"});
        last_error = r.err + vsftpd.log_text();
        return r.exit_code;
    };
    const std::string token = create(user);
    EXPECT_EQ(ftp(token), 0) << "the token: " << last_error << world->daemon_log();
    EXPECT_EQ(ftp("correct horse battery"), 0) << "the password still works";
    EXPECT_NE(ftp("wrong horse"), 0);
    ASSERT_TRUE(world->call(world->root, {"revoke", user, token.substr(4, 12)}).ok());
    EXPECT_NE(ftp(token), 0) << "revoked";
}

} // namespace
} // namespace apitoken::testing
