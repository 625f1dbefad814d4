#include "cli/leak_scan.hpp"

#include "cli/token_search.hpp"
#include "contract/token_shape.hpp"
#include "contract/unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace apitoken::cli {
namespace {

using store::kTokenIdHexLength;
using store::kTokenLength;
using store::kTokenPrefix;

unsigned char type_of(mode_t mode) noexcept {
    if (S_ISDIR(mode)) {
        return DT_DIR;
    }
    if (S_ISREG(mode)) {
        return DT_REG;
    }
    return S_ISLNK(mode) ? DT_LNK : DT_UNKNOWN; // devices and the like: skipped
}

// Whether a path names a directory called .git ("repo/.git", ".git/").
bool is_git_directory(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    const std::size_t slash = path.rfind('/');
    return path.substr(slash == std::string_view::npos ? 0 : slash + 1) == ".git";
}

} // namespace

struct LeakScanner::Entry {
    std::string name;
    unsigned char type = DT_UNKNOWN;
};

bool LeakScanner::read_entries(int fd, std::vector<Entry>& entries) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        return false;
    }
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
        const int error = errno;
        ::close(copy);
        errno = error;
        return false;
    }
    errno = 0;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): this DIR is ours alone
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            entries.push_back({std::string(name), entry->d_type});
        }
    }
    const int error = errno;
    ::closedir(dir);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    errno = error;
    return error == 0;
}

LeakScanner::LeakScanner(ScanSettings settings)
    : settings_(std::move(settings)),
      buffer_size_(std::max<std::size_t>(settings_.read_size, 1) + kTokenLength),
      buffer_(std::make_unique<char[]>(buffer_size_)) {}

LeakScanner::~LeakScanner() {
    // The last reads may hold whole tokens.
    ::explicit_bzero(buffer_.get(), buffer_size_);
}

std::vector<Sighting> LeakScanner::take_sightings() noexcept {
    return std::exchange(sightings_, {});
}

void LeakScanner::report(const std::string& path, int error) {
    had_errors_ = true;
    if (settings_.on_error) {
        settings_.on_error(without_secrets(path),
                           std::error_code(error, std::system_category()).message());
    }
}

void LeakScanner::scan_path(const std::string& path) {
    if (path == "-") {
        scan_fd(STDIN_FILENO, std::string(kStandardInputName));
        return;
    }
    // Named here: followed when a symbolic link, read whatever it is (a
    // FIFO such as <(git diff), a device), like grep.
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
        report(path, errno);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        std::string walked = path;
        scan_directory(fd.get(), walked, is_git_directory(path));
    } else {
        scan_fd(fd.get(), path);
    }
}

void LeakScanner::scan_directory(int fd, std::string& path, bool is_git_dir) {
    std::vector<Entry> entries;
    if (!read_entries(fd, entries)) {
        report(path, errno);
        return;
    }
    const std::size_t length = path.size();
    for (const Entry& entry : entries) {
        if (path.empty() || path.back() != '/') {
            path += '/';
        }
        path += entry.name;
        scan_entry(fd, path, entry, is_git_dir);
        path.resize(length);
    }
}

void LeakScanner::scan_entry(int dir_fd, std::string& path, const Entry& entry, bool in_git_dir) {
    unsigned char type = entry.type;
    if (type == DT_UNKNOWN) { // some file systems do not say
        struct stat st {};
        if (::fstatat(dir_fd, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            report(path, errno);
            return;
        }
        type = type_of(st.st_mode);
    }
    if (type == DT_REG) {
        // O_NONBLOCK: should it have become a FIFO since, open and read
        // return at once.
        const UniqueFd fd(::openat(dir_fd, entry.name.c_str(),
                                   O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
        if (fd.get() < 0) {
            if (errno != ELOOP) { // a symbolic link since: not followed
                report(path, errno);
            }
            return;
        }
        scan_fd(fd.get(), path);
    } else if (type == DT_DIR) {
        if (in_git_dir && entry.name == "objects" && !settings_.git_objects) {
            return;
        }
        const UniqueFd fd(
            ::openat(dir_fd, entry.name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (fd.get() < 0) {
            if (errno != ELOOP && errno != ENOTDIR) {
                report(path, errno);
            }
            return;
        }
        scan_directory(fd.get(), path, entry.name == ".git");
    }
    // Symbolic links are not followed; devices, FIFOs and sockets not read.
}

void LeakScanner::scan_fd(int fd, const std::string& name) {
    ++files_read_;
    TokenFinder finder;
    std::string shown_name; // made once, at the first token
    const TokenFinder::Found found = [&](std::string_view token, std::uint64_t line,
                                         std::uint64_t column) {
        if (shown_name.empty()) {
            shown_name = without_secrets(name);
        }
        Sighting& s = sightings_.emplace_back();
        s.path = shown_name;
        s.line = line;
        s.column = column;
        s.id = std::string(token.substr(kTokenPrefix.size(), kTokenIdHexLength));
        if (settings_.keep_tokens) {
            s.token = ipc::SensitiveString(token);
        }
    };
    char* const buffer = buffer_.get();
    const std::size_t read_size = buffer_size_ - kTokenLength;
    std::size_t carried = 0;
    bool first = true;
    for (;;) {
        const ssize_t got = ::read(fd, buffer + carried, read_size);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) { // EAGAIN: a FIFO after all, without a writer
                report(name, errno);
            }
            return;
        }
        const auto size = static_cast<std::size_t>(got);
        // Like grep -I: a NUL in the first read makes a file binary.
        if (first && size > 0 && std::memchr(buffer, '\0', size) != nullptr) {
            return;
        }
        first = false;
        const std::size_t in_buffer = carried + size;
        carried = finder.search({buffer, in_buffer}, size == 0, found);
        if (size == 0) {
            return;
        }
        std::memmove(buffer, buffer + in_buffer - carried, carried);
    }
}

} // namespace apitoken::cli
