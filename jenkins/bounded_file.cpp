#include "jenkins/bounded_file.hpp"
#include "contract/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace apitoken::jenkins {

namespace {

// strerror is not thread-safe; the error category's message is.
std::string errno_text() {
    return std::error_code(errno, std::generic_category()).message();
}

FileRead refused(std::string why) {
    FileRead result;
    result.error = std::move(why);
    return result;
}

std::string too_big(std::size_t max_bytes) {
    return "larger than " + std::to_string(max_bytes / (std::size_t{1024} * 1024)) +
           " MiB: not a file Jenkins writes, not read";
}

// Reads to the end, but never more than max_bytes + 1: the file may grow
// after fstat, and one byte more is enough to know it is too big.
bool read_all(int fd, std::size_t max_bytes, std::string& out, std::string& error) {
    constexpr std::size_t kChunk = std::size_t{64} * 1024;
    for (;;) {
        const std::size_t used = out.size();
        const std::size_t room = std::min(kChunk, max_bytes + 1 - used);
        out.resize(used + room);
        const ssize_t got = ::read(fd, out.data() + used, room);
        if (got < 0 && errno == EINTR) {
            out.resize(used);
            continue;
        }
        if (got < 0) {
            error = "cannot read: " + errno_text();
            return false;
        }
        out.resize(used + static_cast<std::size_t>(got));
        if (got == 0) {
            return true;
        }
        if (out.size() > max_bytes) {
            error = too_big(max_bytes);
            return false;
        }
    }
}

} // namespace

FileRead read_bounded_file(const std::filesystem::path& path, std::size_t max_bytes) {
    // O_NONBLOCK: a FIFO planted as config.xml would otherwise block the open
    // forever; it is refused below as not a regular file. Reads of a regular
    // file ignore the flag.
    const UniqueFd fd(
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            FileRead result;
            result.status = FileRead::Status::missing;
            return result;
        }
        if (errno == ELOOP) {
            return refused("a symbolic link: not followed");
        }
        return refused("cannot open: " + errno_text());
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        return refused("cannot stat: " + errno_text());
    }
    if (!S_ISREG(info.st_mode)) {
        return refused("not a regular file");
    }
    if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
        return refused(too_big(max_bytes));
    }
    FileRead result;
    result.bytes.reserve(static_cast<std::size_t>(info.st_size));
    if (!read_all(fd.get(), max_bytes, result.bytes, result.error)) {
        result.bytes.clear();
        return result;
    }
    result.status = FileRead::Status::ok;
    return result;
}

} // namespace apitoken::jenkins
