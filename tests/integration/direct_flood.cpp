// apitoken-test-direct-flood SOCKET COUNT MODE RELEASE: a hostile local user against
// the direct socket. Opens COUNT connections to SOCKET and, per MODE:
//   idle     says nothing on them
//   garbage  sends bytes that are no D-Bus at all
//   huge     passes the handshake and starts a message that claims to be
//            100 MiB long, then sends nothing more
// Prints "opened N" (connections the kernel took), then waits until the file
// RELEASE exists, then prints "open K": how many the daemon has not closed by
// then.
// Exits 2 on usage errors.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

int connect_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        return fd;
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return -1;
}

void send_all(int fd, std::string_view bytes) {
    static_cast<void>(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL));
}

// The SASL handshake as sd-bus's client sends it for uid `uid` ("AUTH
// EXTERNAL <hex uid>"), then a method call header whose body length says
// 100 MiB.
std::string huge_message_start() {
    std::string hex;
    for (const char c : std::to_string(::getuid())) {
        constexpr std::string_view kDigits = "0123456789abcdef";
        hex += kDigits[static_cast<unsigned char>(c) >> 4U];
        hex += kDigits[static_cast<unsigned char>(c) & 0xFU];
    }
    std::string bytes = std::string(1, '\0') + "AUTH EXTERNAL " + hex + "\r\nBEGIN\r\n";
    const std::uint32_t body = 100U << 20U;
    const std::uint32_t serial = 1;
    const std::uint32_t fields = 0;
    bytes += std::string{'l', '\1', '\0', '\1'};
    bytes.append(reinterpret_cast<const char*>(&body), 4);
    bytes.append(reinterpret_cast<const char*>(&serial), 4);
    bytes.append(reinterpret_cast<const char*>(&fields), 4);
    bytes += std::string(4096, 'x'); // the first bytes of the "body"
    return bytes;
}

// Whether the daemon closed `fd`: end of file once whatever it said first
// (its handshake answer) has been read.
bool closed_by_peer(int fd) {
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) {
            return false;
        }
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            return true;
        }
        if (n < 0) {
            return false;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: apitoken-test-direct-flood SOCKET COUNT idle|garbage|huge RELEASE\n";
        return 2;
    }
    const std::string path = argv[1];
    const int count = std::stoi(argv[2]);
    const std::string_view mode = argv[3];
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) { // as many as this user may have
        files.rlim_cur = files.rlim_max;
        static_cast<void>(::setrlimit(RLIMIT_NOFILE, &files));
    }
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {
        const int fd = connect_to(path);
        if (fd < 0) {
            continue;
        }
        fds.push_back(fd);
        if (mode == "garbage") {
            send_all(fd, "\x7f"
                         "ELF this is no D-Bus handshake\r\n\r\n" +
                             std::string(512, '\xff'));
        } else if (mode == "huge") {
            send_all(fd, huge_message_start());
        }
    }
    std::cout << "opened " << fds.size() << std::endl;
    while (::access(argv[4], F_OK) != 0) {
        ::usleep(20'000);
    }
    int open = 0;
    for (const int fd : fds) {
        open += closed_by_peer(fd) ? 0 : 1;
    }
    std::cout << "open " << open << std::endl;
    return 0;
}
