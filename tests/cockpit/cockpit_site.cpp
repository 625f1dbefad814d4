#include "tests/cockpit/cockpit_site.hpp"

#include <arpa/inet.h>
#include <crypt.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

// An unused port on 127.0.0.1 (the kernel's choice; cockpit-ws binds it a
// moment later, and start() tries another if that fails).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        throw std::runtime_error("no free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    return ok;
}

// The host's file without the entries the site defines itself.
std::string host_lines_without(const std::filesystem::path& file,
                               const std::set<std::string>& names) {
    std::ifstream in(file);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (!names.contains(line.substr(0, line.find(':')))) {
            out += line + '\n';
        }
    }
    return out;
}

// A fresh password per site, so that no other local user can log in to it.
std::string random_password() {
    std::ifstream random("/dev/urandom", std::ios::binary);
    std::array<char, 18> bytes{};
    random.read(bytes.data(), bytes.size());
    if (!random) {
        throw std::runtime_error("cannot read /dev/urandom");
    }
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string password;
    for (const char byte : bytes) {
        password += kAlphabet[static_cast<unsigned char>(byte) % kAlphabet.size()];
    }
    return password;
}

std::string sha512_crypt(const std::string& password) {
    crypt_data data{};
    const char* hash = ::crypt_r(password.c_str(), "$6$apitokentest$", &data);
    if (hash == nullptr || hash[0] == '*') {
        throw std::runtime_error("crypt_r cannot make a SHA-512 hash");
    }
    return hash;
}

// Created with `mode` (never wider first): the whole text or an exception.
void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode = 0644) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    const bool written = fd >= 0 && ::fchmod(fd, mode) == 0 &&
                         ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) {
        ::close(fd);
    }
    if (!written) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

void make_directory(const std::filesystem::path& path, std::filesystem::perms perms) {
    std::filesystem::create_directories(path);
    std::filesystem::permissions(path, perms);
}

constexpr auto kReadable = std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                           std::filesystem::perms::group_exec |
                           std::filesystem::perms::others_read |
                           std::filesystem::perms::others_exec;

} // namespace

CockpitSite::CockpitSite(const TestWorld& world, const std::vector<TestUser>& users,
                         const std::filesystem::path& page_source)
    : dir_(world.dir() / "cockpit"), private_(dir_ / "private") {
    make_directory(dir_, kReadable);
    make_directory(private_, std::filesystem::perms::owner_all);
    const std::string password = random_password();
    write_file(password_file(), password, 0600);
    write_accounts(users, password);
    make_homes(users, page_source);
    start(world);
}

CockpitSite::~CockpitSite() = default;

std::string CockpitSite::missing_parts() {
    std::string missing;
    for (const char* path : {APITOKEN_COCKPIT_WS, APITOKEN_COCKPIT_BRIDGE, APITOKEN_CHROMIUM,
                             APITOKEN_CHROMEDRIVER, APITOKEN_UNSHARE}) {
        if (::access(path, X_OK) != 0) {
            missing += std::string(missing.empty() ? "" : ", ") + path;
        }
    }
    const ProcessResult selenium =
        run_process({APITOKEN_PYTHON, "-c", "import selenium"}, {}, std::chrono::seconds(60));
    if (selenium.exit_code != 0) {
        missing += std::string(missing.empty() ? "" : ", ") + "python3-selenium";
    }
    return missing;
}

void CockpitSite::write_accounts(const std::vector<TestUser>& users,
                                 const std::string& password) const {
    std::set<std::string> names{"apitoken-auth", "apitoken-admin"};
    std::string passwd;
    std::string group;
    std::string shadow;
    const std::string hash = sha512_crypt(password);
    for (const TestUser& user : users) {
        names.insert(user.name);
        const std::string uid = std::to_string(user.uid);
        const std::string home = (dir_ / "home" / user.name).string();
        passwd.append(user.name).append(":x:").append(uid).append(":").append(uid);
        passwd.append("::").append(home).append(":/bin/sh\n");
        group += user.name + ":x:" + uid + ":\n";
        shadow += user.name + ':' + hash + ":19000:0:99999:7:::\n";
    }
    // The same groups as the world's nss_wrapper file, so that the bridge
    // runs with the supplementary groups the daemon checks.
    group += "apitoken-auth:x:" + std::to_string(TestWorld::kAuthGroup) + ":www\n";
    group += "apitoken-admin:x:" + std::to_string(TestWorld::kAdminGroup) + ":admin\n";
    // passwd and group keep the host's entries (cockpit-ws looks up its own
    // users); shadow holds the world's users only, never a host's hash.
    write_file(private_ / "passwd", host_lines_without("/etc/passwd", names) + passwd);
    write_file(private_ / "group", host_lines_without("/etc/group", names) + group);
    write_file(private_ / "shadow", shadow, 0600);
    write_file(private_ / "pam-cockpit", "auth     required pam_unix.so\n"
                                         "account  required pam_permit.so\n"
                                         "password required pam_deny.so\n"
                                         "session  required pam_permit.so\n");
}

void CockpitSite::make_homes(const std::vector<TestUser>& users,
                             const std::filesystem::path& page_source) const {
    // A copy, so that the users' bridges can read it wherever the source
    // tree lives; root's, so that no user can change what the browser runs.
    const std::filesystem::path page = dir_ / "page";
    std::filesystem::copy(page_source, page, std::filesystem::copy_options::recursive);
    for (const TestUser& user : users) {
        // A home of the user's own, as the bridge expects (it makes
        // ~/.cache and more; without them it has crashed).
        const std::filesystem::path home = dir_ / "home" / user.name;
        const std::filesystem::path packages = home / ".local" / "share" / "cockpit";
        make_directory(packages, kReadable);
        std::filesystem::create_directory_symlink(page, packages / "apitoken");
        for (const auto& path : {home, home / ".local", home / ".local" / "share", packages}) {
            if (::chown(path.c_str(), user.uid, user.uid) != 0) {
                throw std::runtime_error("cannot chown " + path.string());
            }
        }
    }
}

void CockpitSite::start(const TestWorld& world) {
    const std::string bus_socket = (world.dir() / "bus").string();
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        std::ostringstream script;
        script << "set -e\n"
               << "mount -t tmpfs -o mode=0755 apitoken-test-run /run\n"
               << "mount -t tmpfs -o mode=0755 apitoken-test-log /var/log\n"
               << "touch /var/log/wtmp /var/log/btmp /var/log/lastlog\n"
               << "mkdir -p /run/dbus\n"
               << "ln -s '" << bus_socket << "' /run/dbus/system_bus_socket\n";
        for (const char* file : {"passwd", "group", "shadow"}) {
            script << "mount --bind '" << (private_ / file).string() << "' /etc/" << file << '\n';
        }
        script << "mount --bind '" << (private_ / "pam-cockpit").string()
               << "' /etc/pam.d/cockpit\n"
               << "exec " << APITOKEN_COCKPIT_WS << " --no-tls --address 127.0.0.1 --port " << port_
               << '\n';
        const std::filesystem::path start_script = private_ / "start-ws.sh";
        std::filesystem::remove(start_script);
        write_file(start_script, script.str(), 0600);
        ws_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{APITOKEN_UNSHARE, "--mount", "--propagation", "private", "sh",
                                     start_script.string()},
            Environment{}, dir_ / "ws.log");
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (ws_->running() && std::chrono::steady_clock::now() < deadline) {
            if (accepts_connections(port_)) {
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    throw std::runtime_error("cockpit-ws did not start:\n" + log_text());
}

std::string CockpitSite::log_text() const {
    return ws_ ? ws_->log_text() : std::string();
}

} // namespace apitoken::testing
