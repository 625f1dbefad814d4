// The direct connection (issue 18): apitokend's Unix socket, peer to peer.
// Clients here reach the daemon only through it (their system bus address
// leads nowhere), as real uids through setpriv.

#include "ipc/bus_api.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace apitoken::testing {
namespace {

using namespace std::chrono_literals;

class DirectTest : public WorldTest {};

TEST_F(DirectTest, TheSocketIsMadeForEveryoneInTheDaemonsDirectory) {
    world->start_daemon();
    struct stat socket_stat {};
    ASSERT_EQ(::lstat(world->direct_socket().c_str(), &socket_stat), 0);
    EXPECT_TRUE(S_ISSOCK(socket_stat.st_mode));
    EXPECT_EQ(socket_stat.st_mode & 0777U, 0666U);
    EXPECT_EQ(socket_stat.st_uid, world->daemon_user.uid);
}

TEST_F(DirectTest, AuthorizationIsTheKernelsIdentityWithTheBussRules) {
    world->start_daemon();
    const CallResult created = world->call_direct(world->alice, {"create", "", "ci", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string id = created.fields.at(0);
    const std::string token = created.fields.at(1);
    // Self, root and the admin group see alice's tokens; bob does not.
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok());
    EXPECT_TRUE(world->call_direct(world->root, {"list", "alice"}).ok());
    EXPECT_TRUE(world->call_direct(world->admin, {"list", "alice"}).ok());
    EXPECT_TRUE(world->call_direct(world->bob, {"list", "alice"}).refused("AccessDenied"));
    EXPECT_TRUE(world->call_direct(world->bob, {"revoke", "alice", id}).refused("AccessDenied"));
    // Authentication for another user: root and the auth group only.
    EXPECT_TRUE(world->call_direct(world->www, {"auth", "alice", token, "web", "192.0.2.1"}).ok());
    EXPECT_TRUE(world->call_direct(world->root, {"auth", "alice", token, "sshd", ""}).ok());
    EXPECT_TRUE(world->call_direct(world->bob, {"auth", "alice", token, "sshd", ""})
                    .refused("AccessDenied"));
    EXPECT_TRUE(world->call_direct(world->alice, {"auth", "", token, "sshd", ""}).ok())
        << "a user checks their own token";
}

TEST_F(DirectTest, PamUsesTheSocketAndBusOnlyTheBus) {
    world->start_daemon();
    world->write_pam_service("direct", "auth required " APITOKEN_PAM_MODULE " debug\n");
    world->write_pam_service("viabus", "auth required " APITOKEN_PAM_MODULE " debug bus_only\n");
    const CallResult created = world->call(world->root, {"create", "alice", "t", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string token = created.fields.at(1);
    const Environment socket{"APITOKEN_SOCKET=" + world->direct_socket().string()};
    const ProcessResult direct =
        world->pamtester(world->root, "direct", "alice", token + "\n", socket);
    EXPECT_TRUE(login_succeeded(direct)) << direct.out << direct.err;
    EXPECT_NE(direct.err.find("over its direct socket"), std::string::npos) << direct.err;
    const ProcessResult bus =
        world->pamtester(world->root, "viabus", "alice", token + "\n", socket);
    EXPECT_TRUE(login_succeeded(bus)) << bus.out << bus.err;
    EXPECT_NE(bus.err.find("over the system bus"), std::string::npos) << bus.err;
    // No socket there: the bus, as before.
    const ProcessResult fallback =
        world->pamtester(world->root, "direct", "alice", token + "\n",
                         {"APITOKEN_SOCKET=" + (world->dir() / "no-socket-here").string()});
    EXPECT_TRUE(login_succeeded(fallback)) << fallback.out << fallback.err;
    EXPECT_NE(fallback.err.find("over the system bus"), std::string::npos) << fallback.err;
}

// apitokenctl takes the same way and says which one it took; --bus-only
// keeps to the bus, and a dead socket path falls back to it.
TEST_F(DirectTest, TheCliUsesTheSocketAndSaysSo) {
    world->start_daemon();
    const std::string ctl = APITOKEN_CTL;
    const Environment socket{"APITOKEN_SOCKET=" + world->direct_socket().string()};
    const ProcessResult direct = world->run_as(world->alice, {ctl, "status"}, {}, socket);
    EXPECT_EQ(direct.exit_code, 0) << direct.err;
    EXPECT_NE(direct.out.find("connection:    direct socket " + world->direct_socket().string()),
              std::string::npos)
        << direct.out;
    const ProcessResult as_json =
        world->run_as(world->alice, {ctl, "status", "--json"}, {}, socket);
    EXPECT_NE(as_json.out.find("\"connection\": \"direct\""), std::string::npos) << as_json.out;
    const ProcessResult bus_only =
        world->run_as(world->alice, {ctl, "--bus-only", "status"}, {}, socket);
    EXPECT_NE(bus_only.out.find("connection:    system bus"), std::string::npos) << bus_only.out;
    const ProcessResult fallback =
        world->run_as(world->alice, {ctl, "status"}, {},
                      {"APITOKEN_SOCKET=" + (world->dir() / "no-socket-here").string()});
    EXPECT_NE(fallback.out.find("connection:    system bus"), std::string::npos) << fallback.out;
}

TEST_F(DirectTest, AStaleSocketIsReplacedAndALiveOneRefused) {
    world->start_daemon();
    world->kill_daemon(); // leaves its socket file behind
    ASSERT_TRUE(std::filesystem::exists(world->direct_socket()));
    world->start_daemon();
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// Whether the daemon closes the connection on `fd` within `limit` (end of
// file; anything it says first is read and dropped).
bool closed_by_daemon_within(int fd, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
            char buffer[4096];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                return true;
            }
        }
    }
    return false;
}

sockaddr_un unix_address(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    return addr;
}

// A plain socket connected to `path` (-1 when it could not connect).
int connect_raw(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_un addr = unix_address(path);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// An sd-bus peer-to-peer client on the direct socket, as root.
class DirectPeer {
public:
    explicit DirectPeer(const std::filesystem::path& socket) {
        const std::string address = "unix:path=" + socket.string();
        if (sd_bus_new(&bus_) < 0 || sd_bus_set_address(bus_, address.c_str()) < 0 ||
            sd_bus_start(bus_) < 0) {
            throw std::runtime_error("cannot connect to " + socket.string());
        }
    }
    DirectPeer(const DirectPeer&) = delete;
    DirectPeer& operator=(const DirectPeer&) = delete;
    DirectPeer(DirectPeer&&) = delete;
    DirectPeer& operator=(DirectPeer&&) = delete;
    ~DirectPeer() { sd_bus_close_unref(bus_); }

    // The D-Bus error name of Authenticate(user, token, "sshd", ""), "" when
    // it succeeded, "no answer" when the connection failed.
    std::string authenticate(const std::string& user, const std::string& token) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call_method(bus_, nullptr, ipc::kObjectPath, ipc::kInterface,
                                         ipc::method::kAuthenticate, &error, &reply, "ssss",
                                         user.c_str(), token.c_str(), "sshd", "");
        std::string name = r >= 0 ? "" : (error.name != nullptr ? error.name : "no answer");
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_NO_REPLY) > 0) {
            name = "no answer";
        }
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return name;
    }

    // Bytes written straight onto the connection's socket.
    void send_raw(const std::string& bytes) const {
        ASSERT_EQ(::send(sd_bus_get_fd(bus_), bytes.data(), bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(bytes.size()));
    }

    [[nodiscard]] bool closed_within(std::chrono::seconds limit) const {
        return closed_by_daemon_within(sd_bus_get_fd(bus_), limit);
    }

private:
    sd_bus* bus_ = nullptr;
};

// A message header (little endian, a method call) whose body claims
// `body_bytes`, as an attacker would start one.
std::string message_header_claiming(std::uint32_t body_bytes) {
    std::string header{'l', '\1', '\0', '\1'};
    const std::uint32_t serial = 99;
    const std::uint32_t fields = 0;
    header.append(reinterpret_cast<const char*>(&body_bytes), 4);
    header.append(reinterpret_cast<const char*>(&serial), 4);
    header.append(reinterpret_cast<const char*>(&fields), 4);
    return header;
}

// The daemon bounds each message itself (4 MiB; sd-bus alone would take
// 128 MiB and allocate what a header claims): a call just under the bound
// is read whole and answered (it crosses the relay in many pieces), a
// header claiming more closes the connection at once, long before the idle
// timeout, and nobody else notices.
TEST_F(DirectTest, AMessageBeyondTheBoundClosesItsConnectionAtOnce) {
    world->start_daemon();
    const CallResult created = world->call(world->root, {"create", "alice", "t", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string token = created.fields.at(1);

    DirectPeer large(world->direct_socket());
    const std::string answer = large.authenticate("alice", std::string(std::size_t{3} << 20U, 'x'));
    EXPECT_TRUE(answer == "io.apitoken1.Error.AuthenticationFailed" ||
                answer == "io.apitoken1.Error.InvalidArgument")
        << answer << "\n"
        << world->daemon_log();
    EXPECT_EQ(large.authenticate("alice", token), "") << "the connection serves on";

    DirectPeer huge(world->direct_socket());
    ASSERT_EQ(huge.authenticate("alice", token), "");
    huge.send_raw(message_header_claiming(100U << 20U));
    EXPECT_TRUE(huge.closed_within(std::chrono::seconds(30)))
        << "a message claiming 100 MiB was waited for";

    DirectPeer over(world->direct_socket());
    ASSERT_EQ(over.authenticate("alice", token), "");
    over.send_raw(message_header_claiming((std::uint32_t{4} << 20U) - 15U));
    EXPECT_TRUE(over.closed_within(std::chrono::seconds(30)))
        << "one byte over the bound was waited for";

    DirectPeer other(world->direct_socket());
    EXPECT_EQ(other.authenticate("alice", token), "");
}

// A peer that connects and says nothing, or never finishes its handshake,
// is closed after the handshake timeout (5 s; the bound here is generous
// for a loaded machine, and still far below the idle timeout's 60 s, which
// would otherwise be what closes it).
TEST_F(DirectTest, AConnectionThatNeverFinishesItsHandshakeIsClosed) {
    world->start_daemon();
    const int silent = connect_raw(world->direct_socket());
    const int halfway = connect_raw(world->direct_socket());
    ASSERT_GE(silent, 0);
    ASSERT_GE(halfway, 0);
    const std::string start = std::string(1, '\0') + "AUTH EXTERNAL 30\r\n";
    ASSERT_EQ(::send(halfway, start.data(), start.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(start.size()));
    EXPECT_TRUE(closed_by_daemon_within(silent, std::chrono::seconds(45)));
    EXPECT_TRUE(closed_by_daemon_within(halfway, std::chrono::seconds(45)));
    ::close(silent);
    ::close(halfway);
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// A D-Bus method call without arguments, little endian, as bytes: what a
// hostile peer writes by hand.
std::string method_call(std::uint32_t serial, const std::string& path, const std::string& interface,
                        const std::string& member, std::uint32_t unix_fds = 0) {
    std::string fields;
    const auto pad = [](std::string& bytes, std::size_t base, std::size_t alignment) {
        while ((base + bytes.size()) % alignment != 0) {
            bytes.push_back('\0');
        }
    };
    const auto field = [&](char code, char signature, const std::string& value) {
        pad(fields, 16, 8);
        fields += std::string{code, '\1', signature, '\0'};
        pad(fields, 16, 4);
        const auto length = static_cast<std::uint32_t>(value.size());
        fields.append(reinterpret_cast<const char*>(&length), 4);
        fields += value;
        fields.push_back('\0');
    };
    field('\1', 'o', path);
    field('\2', 's', interface);
    field('\3', 's', member);
    if (unix_fds > 0) { // claims descriptors that never come: sd-bus drops the message
        pad(fields, 16, 8);
        fields += std::string{'\x09', '\1', 'u', '\0'};
        fields.append(reinterpret_cast<const char*>(&unix_fds), 4);
    }
    std::string message{'l', '\1', '\0', '\1'};
    const std::uint32_t body = 0;
    const auto fields_length = static_cast<std::uint32_t>(fields.size());
    message.append(reinterpret_cast<const char*>(&body), 4);
    message.append(reinterpret_cast<const char*>(&serial), 4);
    message.append(reinterpret_cast<const char*>(&fields_length), 4);
    message += fields;
    pad(message, 0, 8);
    return message;
}

std::string ping(std::uint32_t serial) {
    return method_call(serial, "/", "org.freedesktop.DBus.Peer", "Ping");
}

// Introspect calls, one after another, until they fill `bytes`: what a
// peer pipelines when it never reads the (13 KiB) answers.
std::string introspect_calls(std::size_t bytes) {
    std::string calls;
    for (std::uint32_t serial = 1; calls.size() < bytes; ++serial) {
        calls += method_call(serial, "/io/apitoken1", "org.freedesktop.DBus.Introspectable",
                             "Introspect");
    }
    return calls;
}

// A hand-driven peer on the direct socket (non-blocking).
class RawPeer {
public:
    explicit RawPeer(const std::filesystem::path& socket) : fd_(connect_raw(socket)) {
        if (fd_ < 0) {
            throw std::runtime_error("cannot connect to " + socket.string());
        }
        ::fcntl(fd_, F_SETFL, O_NONBLOCK);
    }
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;
    RawPeer(RawPeer&&) = delete;
    RawPeer& operator=(RawPeer&&) = delete;
    ~RawPeer() { ::close(fd_); }

    // Writes `bytes` as far as the daemon takes them: stops when nothing
    // more went for `stall`. Returns how many went.
    std::size_t push(std::string_view bytes,
                     std::chrono::milliseconds stall = std::chrono::milliseconds(2000)) const {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno != EAGAIN) {
                break;
            }
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(stall.count())) <= 0) {
                break;
            }
        }
        return sent;
    }

    // Reads what the daemon says until `wanted` bytes came or `limit`
    // passed; "" and closed() once it closed the connection.
    std::string read(std::size_t wanted, std::chrono::seconds limit) {
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (got.size() < wanted && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                closed_ = true;
                break;
            }
            got.append(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        }
        return got;
    }

    // The handshake as sd-bus's client makes it (AUTH, its OK, then BEGIN
    // with `after` in the same write).
    bool handshake(const std::string& after = {}) {
        const std::string auth = std::string(1, '\0') + "AUTH EXTERNAL 30\r\n";
        if (push(auth) != auth.size() || read(3, std::chrono::seconds(30)).rfind("OK ", 0) != 0) {
            return false;
        }
        const std::string begin = "BEGIN\r\n" + after;
        return push(begin) == begin.size();
    }

    [[nodiscard]] bool closed() const { return closed_; }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_ = -1;
    bool closed_ = false;
};

// A first call written together with BEGIN (as GDBus or libdbus may) is
// answered: sd-bus gets the call only once its handshake is done.
TEST_F(DirectTest, ACallSentWithBeginIsAnswered) {
    world->start_daemon();
    RawPeer peer(world->direct_socket());
    ASSERT_TRUE(peer.handshake(ping(1)));
    const std::string reply = peer.read(16, std::chrono::seconds(30));
    ASSERT_GE(reply.size(), 16U) << "no answer to a Ping sent with BEGIN";
    EXPECT_EQ(reply[1], '\2') << "not a method return";
}

// The attacker's read (issue 18): a BEGIN that sd-bus refuses (no AUTH
// before it) must not make the daemon count message lengths sd-bus does
// not; there, a later AUTH and BEGIN let a message claiming 100 MiB
// through in fake 4 MiB pieces. Now nothing after the refused BEGIN reaches
// sd-bus: the daemon stops reading and the handshake timeout closes it.
TEST_F(DirectTest, ABeginSdBusRefusedDoesNotOpenTheWayToAHugeMessage) {
    world->start_daemon();
    // For the framing (had it taken the first BEGIN): a "message" whose
    // body holds, for sd-bus, the lines of a handshake it does accept, a
    // Ping (the connection counts as active) and a header claiming 100 MiB;
    // then "messages" of 4 MiB that sd-bus reads as that body.
    std::string inside =
        "\r\nAUTH ANONYMOUS\r\nBEGIN\r\n" + ping(1) + message_header_claiming(100U << 20U);
    inside += std::string((8 - inside.size() % 8) % 8, '\0');
    std::string attack = std::string(1, '\0') + "BEGIN\r\n" +
                         message_header_claiming(static_cast<std::uint32_t>(inside.size())) +
                         inside;
    constexpr std::uint32_t kPiece = 4U << 20U;
    while (attack.size() < (std::size_t{16} << 20U)) {
        attack += message_header_claiming(kPiece - 16) + std::string(kPiece - 16, 'A');
    }
    RawPeer peer(world->direct_socket());
    const std::size_t taken = peer.push(attack);
    EXPECT_LT(taken, std::size_t{4} << 20U) << "the daemon read on after a refused BEGIN";
    peer.read(std::size_t{1} << 30U, std::chrono::seconds(45));
    EXPECT_TRUE(peer.closed()) << "not closed by the handshake timeout";
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// A peer that sends calls and never reads the answers: once a few answers
// wait for it, the daemon reads no more of its calls (dbus-daemon's
// max_outgoing_bytes did this on the bus), so it cannot make the daemon
// queue replies without bound; it carries on once the peer reads.
TEST_F(DirectTest, APeerThatDoesNotReadItsAnswersIsNotReadEither) {
    world->start_daemon();
    RawPeer peer(world->direct_socket());
    ASSERT_TRUE(peer.handshake());
    const std::string calls = introspect_calls(std::size_t{8} << 20U);
    const std::size_t taken = peer.push(calls);
    EXPECT_LT(taken, std::size_t{4} << 20U) << "the daemon read calls whose answers pile up";
    const std::string answers = peer.read(std::size_t{1} << 20U, std::chrono::seconds(30));
    EXPECT_FALSE(peer.closed()) << "held back, not closed";
    EXPECT_GE(answers.size(), std::size_t{1} << 20U) << "answers stop once the peer reads";
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// Such a peer does not hold the daemon's shutdown either: its answers are
// dropped, not flushed (sd-bus would wait for the peer to read them).
TEST_F(DirectTest, APeerThatDoesNotReadDoesNotHoldTheShutdown) {
    world->start_daemon();
    RawPeer peer(world->direct_socket());
    ASSERT_TRUE(peer.handshake());
    const std::string calls = introspect_calls(std::size_t{4} << 20U);
    peer.push(calls);
    EXPECT_EQ(world->stop_daemon(), 0) << "SIGTERM did not end the daemon\n" << world->daemon_log();
}

// The daemon's descriptors: four per direct connection.
std::size_t open_descriptors(pid_t pid) {
    const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(fds),
                                                  std::filesystem::directory_iterator()));
}

// A message sd-bus reads and drops without telling anyone (one that claims
// descriptors it does not carry) neither stalls the connection (the next
// call is answered) nor, once the peer hangs up while the relay waits,
// keeps the connection (and sd-bus, woken by the hang-up again and again)
// until the idle timeout: it is closed at once.
TEST_F(DirectTest, AMessageSdBusDropsUnseenNeitherStallsNorOutlivesItsPeer) {
    world->start_daemon();
    const pid_t daemon = world->daemon_pid();
    const std::size_t before = open_descriptors(daemon);
    const std::string dropped = method_call(1, "/", "org.freedesktop.DBus.Peer", "Ping", 1);
    {
        RawPeer peer(world->direct_socket());
        ASSERT_TRUE(peer.handshake(dropped + ping(2)));
        const std::string reply = peer.read(16, std::chrono::seconds(30));
        ASSERT_GE(reply.size(), 16U) << "the call after a dropped message was not answered";
        EXPECT_EQ(reply[1], '\2');
        peer.push(dropped);
    } // hangs up
    bool freed = false;
    for (int i = 0; i < 300 && !freed; ++i) {
        freed = open_descriptors(daemon) <= before;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(freed) << "the connection outlived its peer: " << open_descriptors(daemon)
                       << " descriptors, " << before << " before";
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// What one uid's messages under way hold is bounded in all (8 MiB), not
// only per message: a third message of 3.5 MiB that never ends closes its
// connection at once, long before the idle timeout.
TEST_F(DirectTest, MessagesUnderWayAreBoundedPerUid) {
    world->start_daemon();
    const std::string partial =
        message_header_claiming((std::uint32_t{3} << 20U) + (1U << 19U) + 1024) +
        std::string((std::size_t{3} << 20U) + (std::size_t{1} << 19U), 'x');
    std::vector<std::unique_ptr<RawPeer>> peers;
    for (int i = 0; i < 3; ++i) {
        peers.push_back(std::make_unique<RawPeer>(world->direct_socket()));
        ASSERT_TRUE(peers.back()->handshake(ping(1)));
        ASSERT_GE(peers.back()->read(16, std::chrono::seconds(30)).size(), 16U);
        peers.back()->push(partial, std::chrono::milliseconds(5000));
    }
    peers[2]->read(std::size_t{1} << 20U, std::chrono::seconds(30));
    EXPECT_TRUE(peers[2]->closed()) << "the third message under way should close its connection";
    for (std::size_t i = 0; i < 2; ++i) {
        peers[i]->read(std::size_t{1} << 20U, std::chrono::seconds(2));
        EXPECT_FALSE(peers[i]->closed()) << "within the budget, connection " << i;
    }
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

// With systemd, apitokend.socket holds the socket (socket activation): an
// authentication that arrives while the daemon restarts waits in the
// socket's backlog and is answered by the next daemon, instead of failing
// (its bus leads nowhere here, so it cannot have gone that way).
TEST_F(DirectTest, WithSocketActivationAnAuthenticationWaitsOutARestart) {
    const int made = ::socket(AF_UNIX, SOCK_STREAM, 0); // as systemd makes it: inherited
    const sockaddr_un addr = unix_address(world->direct_socket());
    ASSERT_EQ(::bind(made, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::chmod(world->direct_socket().c_str(), 0666), 0);
    ASSERT_EQ(::listen(made, 64), 0);
    const int listening = ::fcntl(made, F_DUPFD, 10); // never 3: the daemon gets it as 3
    ::close(made);
    ASSERT_GE(listening, 10);

    world->start_daemon_on_socket(listening);
    const CallResult created = world->call(world->root, {"create", "bob", "t", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string token = created.fields.at(1);
    ASSERT_TRUE(world->call_direct(world->www, {"auth", "bob", token, "web", "192.0.2.1"}).ok())
        << world->daemon_log();

    world->kill_daemon();
    const auto waiting = world->start_as(
        world->www,
        {"env", "APITOKEN_SOCKET=" + world->direct_socket().string(),
         "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + (world->dir() / "no-bus-here").string(),
         APITOKEN_TEST_CALL, "--timeout-ms=120000", "auth", "bob", token, "web", "192.0.2.1"},
        "waiting.log");
    std::this_thread::sleep_for(1s); // time to connect; it must still be waiting then
    EXPECT_TRUE(waiting->running())
        << "gave up while the daemon was down: " << world->daemon_log_of("waiting.log");
    world->start_daemon_on_socket(listening);
    EXPECT_EQ(waiting->wait(120s), 0) << world->daemon_log_of("waiting.log");
    EXPECT_NE(world->daemon_log_of("waiting.log").find("ok"), std::string::npos)
        << world->daemon_log_of("waiting.log");
    ::close(listening);
}

// A listening socket that counts who connects to it: a socket an attacker
// would like a privileged client to talk to.
class Decoy {
public:
    explicit Decoy(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        const sockaddr_un addr = unix_address(path);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 16) != 0) {
            throw std::runtime_error("cannot listen on " + path.string());
        }
        std::filesystem::permissions(path, std::filesystem::perms::all);
    }
    Decoy(const Decoy&) = delete;
    Decoy& operator=(const Decoy&) = delete;
    Decoy(Decoy&&) = delete;
    Decoy& operator=(Decoy&&) = delete;
    ~Decoy() { ::close(fd_); }

    // Connections made so far (each accepted and closed).
    int connections() {
        for (int fd = -1; (fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
            ::close(fd);
            ++accepted_;
        }
        return accepted_;
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    int accepted_ = 0;
};

// APITOKEN_SOCKET is read with secure_getenv: a setuid-root program (a real
// setuid exec, which sets AT_SECURE) run by alice ignores it, so alice cannot
// point a privileged client at a socket of hers. The same program without
// the setuid bit does follow it, which shows the test can tell.
TEST_F(DirectTest, ASetuidProgramCannotBePointedAtAnotherSocket) {
    world->start_daemon();
    const std::filesystem::path client = world->dir() / "setuid-call";
    std::filesystem::copy_file(APITOKEN_TEST_CALL, client);
    ASSERT_EQ(::chown(client.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(client.c_str(), 04755), 0);
    Decoy decoy(world->dir() / "decoy");
    const Environment pointed{"APITOKEN_SOCKET=" + (world->dir() / "decoy").string()};

    const ProcessResult setuid =
        world->run_as(world->alice, {client.string(), "status"}, {}, pointed);
    EXPECT_EQ(decoy.connections(), 0)
        << "the setuid client connected to alice's socket: " << setuid.out << setuid.err;

    ASSERT_EQ(::chmod(client.c_str(), 0755), 0);
    const ProcessResult plain =
        world->run_as(world->alice, {client.string(), "status"}, {}, pointed);
    EXPECT_EQ(decoy.connections(), 1)
        << "without setuid the client should follow APITOKEN_SOCKET: " << plain.out << plain.err;
}

// A hostile local user (alice) opens thousands of connections to the direct
// socket: silent ones, garbage, or a message that claims 100 MiB and never
// ends. Another user's authentications over the socket all succeed
// meanwhile, and alice never holds more than her share of connections.
class DirectFloodTest : public DirectTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(DirectFloodTest, AHostileUserDoesNotStopOthersAuthentications) {
    const std::string mode = GetParam();
    world->start_daemon();
    const CallResult created = world->call(world->root, {"create", "bob", "t", "0"});
    ASSERT_TRUE(created.ok()) << created.raw;
    const std::string token = created.fields.at(1);
    const std::filesystem::path release = world->dir() / "release";
    const auto flood = world->start_as(
        world->alice,
        {APITOKEN_DIRECT_FLOOD, world->direct_socket().string(), "3000", mode, release.string()},
        "flood.log");
    for (int i = 0;
         i < 6000 && world->daemon_log_of("flood.log").find("opened") == std::string::npos; ++i) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_NE(world->daemon_log_of("flood.log").find("opened"), std::string::npos)
        << world->daemon_log_of("flood.log");

    int ok = 0;
    std::string failures;
    for (int i = 0; i < 20; ++i) {
        const CallResult r =
            // The client's own deadline as long as the test's: under valgrind
            // the daemon takes longer than the default 5 s to work through
            // the flood's backlog.
            world->call_direct(
                world->www, {"--timeout-ms=60000", "auth", "bob", token, "web", "192.0.2.1"}, 90s);
        ok += r.ok() ? 1 : 0;
        failures += r.ok() ? "" : r.raw + "\n";
    }
    EXPECT_EQ(ok, 20) << failures << world->daemon_log();

    std::ofstream(release) << "";
    ASSERT_EQ(flood->wait(120s), 0) << flood->log_text();
    const std::string report = world->daemon_log_of("flood.log");
    const auto at = report.find("open ");
    ASSERT_NE(at, std::string::npos) << report;
    EXPECT_LE(std::stoi(report.substr(at + 5)), 64)
        << "alice's connections beyond her share stay open\n"
        << world->daemon_log();
    EXPECT_TRUE(world->call_direct(world->alice, {"list", ""}).ok()) << world->daemon_log();
}

INSTANTIATE_TEST_SUITE_P(Modes, DirectFloodTest, ::testing::Values("idle", "garbage", "huge"));

} // namespace
} // namespace apitoken::testing
