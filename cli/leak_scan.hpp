#pragma once

// apitokenctl scan's engine: finds every checksum-valid token in files,
// directories and standard input, at about the speed the kernel hands the
// bytes over (see bench/scan_bench.sh). No bus, no daemon: what the tokens
// are is asked elsewhere (commands_scan.cpp).

#include "ipc/sensitive_string.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::cli {

// One token found: where, and its public id. The token itself only when
// the scan was asked to keep it (--revoke needs it), in wiped memory.
struct Sighting {
    std::string path;         // a token in it shown as atk_<id>… (without_secrets)
    std::uint64_t line = 0;   // 1-based
    std::uint64_t column = 0; // 1-based, in bytes
    std::string id;           // the 12 hex digits
    ipc::SensitiveString token;
};

struct ScanSettings {
    bool git_objects = false; // also read .git/objects (skipped by default)
    bool keep_tokens = false; // keep each token's text in its Sighting
    // Bytes per read(); tests make it tiny to split tokens across reads.
    std::size_t read_size = std::size_t{1} << 20;
    // Called for each path that cannot be read (the reason as the system
    // says it; a token in the path shown as atk_<id>…); the scan goes on.
    std::function<void(std::string_view path, std::string_view reason)> on_error;
};

// The name a sighting on standard input has, as grep says it.
inline constexpr std::string_view kStandardInputName = "(standard input)";

// Scans paths one after the other, collecting sightings. Paths named here
// are followed when they are symbolic links; inside a directory, links are
// never followed (like grep -r), nor devices, FIFOs or sockets read.
// Binary files (a NUL byte in the first read) are skipped, like grep -I.
class LeakScanner {
public:
    explicit LeakScanner(ScanSettings settings);
    LeakScanner(const LeakScanner&) = delete;
    LeakScanner& operator=(const LeakScanner&) = delete;
    LeakScanner(LeakScanner&&) = delete;
    LeakScanner& operator=(LeakScanner&&) = delete;
    ~LeakScanner(); // wipes the read buffer

    // A file, a directory (recursively) or "-" (standard input).
    void scan_path(const std::string& path);
    // An open file (not closed here), its sightings named `name`.
    void scan_fd(int fd, const std::string& name);

    [[nodiscard]] const std::vector<Sighting>& sightings() const noexcept { return sightings_; }
    [[nodiscard]] std::vector<Sighting> take_sightings() noexcept;
    // Whether anything could not be read (on_error was called).
    [[nodiscard]] bool had_errors() const noexcept { return had_errors_; }
    // Files opened and read (binary ones included).
    [[nodiscard]] std::uint64_t files_read() const noexcept { return files_read_; }

private:
    struct Entry; // a directory entry: name and type
    // A directory's entries but "." and "..", sorted (the output does not
    // depend on the file system's order); `fd` stays open.
    static bool read_entries(int fd, std::vector<Entry>& entries);
    // `path` names the directory open as `fd`; it grows and shrinks back.
    void scan_directory(int fd, std::string& path, bool is_git_dir);
    void scan_entry(int dir_fd, std::string& path, const Entry& entry, bool in_git_dir);
    void report(const std::string& path, int error);

    ScanSettings settings_;
    std::size_t buffer_size_ = 0;
    std::unique_ptr<char[]> buffer_;
    std::vector<Sighting> sightings_;
    bool had_errors_ = false;
    std::uint64_t files_read_ = 0;
};

} // namespace apitoken::cli
