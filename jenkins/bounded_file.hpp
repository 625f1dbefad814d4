#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace apitoken::jenkins {

// No Jenkins user file comes near this (a user with a hundred tokens is
// ~50 KiB); anything bigger is refused before it is read whole.
inline constexpr std::size_t kMaxXmlFileBytes = std::size_t{16} * 1024 * 1024;

struct FileRead {
    enum class Status : std::uint8_t { ok, missing, refused };
    Status status = Status::refused;
    std::string bytes; // the whole file when ok
    std::string error; // why, when refused
};

// Reads a regular file of at most max_bytes without following a symbolic
// link at its last component (a link in users/ could point anywhere on the
// host). Missing is not an error: apiTokenStats.xml often is.
[[nodiscard]] FileRead read_bounded_file(const std::filesystem::path& path,
                                         std::size_t max_bytes = kMaxXmlFileBytes);

} // namespace apitoken::jenkins
