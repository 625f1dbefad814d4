// DirectListener::listening_socket without systemd: the daemon makes its own
// socket, replaces a stale one and refuses to take a live one (a second
// apitokend) or anything that is not a socket.
#include "daemon/direct_listener.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace apitoken::daemon {
namespace {

using testing::TempDir;

// A socket bound at `path` and listening; closed by the caller or not.
int listen_at(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd, 1), 0);
    return fd;
}

std::string message_of(const std::string& path) {
    try {
        static_cast<void>(DirectListener::listening_socket(path));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

TEST(DirectSocket, IsMadeForEveryoneInADirectoryOnlyItsOwnerWrites) {
    const TempDir dir;
    const std::string path = (dir.path() / "run" / "socket").string();
    const UniqueFd fd = DirectListener::listening_socket(path);
    ASSERT_TRUE(fd);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777U, 0666U);
    ASSERT_EQ(::stat((dir.path() / "run").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0022U, 0U) << "the directory must not be writable by others";
}

TEST(DirectSocket, AStaleSocketIsReplaced) {
    const TempDir dir;
    const std::string path = (dir.path() / "socket").string();
    ::close(listen_at(path)); // the file stays, nobody accepts
    EXPECT_EQ(message_of(path), "");
}

TEST(DirectSocket, ALiveSocketIsNotTaken) {
    const TempDir dir;
    const std::string path = (dir.path() / "socket").string();
    const int live = listen_at(path);
    EXPECT_NE(message_of(path).find("already running"), std::string::npos);
    // The first owner still has its socket.
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    ::close(live);
}

TEST(DirectSocket, SomethingElseAtThePathIsLeftAlone) {
    const TempDir dir;
    const std::string path = (dir.path() / "socket").string();
    std::ofstream(path) << "precious";
    EXPECT_NE(message_of(path).find("not a socket"), std::string::npos);
    std::ifstream in(path);
    std::string text;
    in >> text;
    EXPECT_EQ(text, "precious");
}

TEST(DirectSocket, APathTooLongForAUnixSocketIsRefused) {
    EXPECT_NE(message_of("/" + std::string(200, 'x')).find("too long"), std::string::npos);
}

} // namespace
} // namespace apitoken::daemon
