#include "cli/login_defs.hpp"

#include <charconv>
#include <fstream>

namespace apitoken::cli {
namespace {

constexpr std::string_view kBlanks = " \t\r";
// login.defs is a few KiB; more is not that file.
constexpr std::streamsize kMaxLoginDefsBytes = 1 << 20;

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

} // namespace

uid_t first_login_uid(std::string_view login_defs) {
    uid_t found = kDefaultFirstLoginUid;
    while (!login_defs.empty()) {
        const auto end = login_defs.find('\n');
        const std::string_view line = trimmed(login_defs.substr(0, end));
        login_defs =
            end == std::string_view::npos ? std::string_view{} : login_defs.substr(end + 1);
        const auto key_end = line.find_first_of(kBlanks);
        if (line.empty() || line.front() == '#' || line.substr(0, key_end) != "UID_MIN" ||
            key_end == std::string_view::npos) {
            continue;
        }
        const std::string_view value = trimmed(line.substr(key_end));
        uid_t uid = 0;
        const auto [rest, error] = std::from_chars(value.data(), value.data() + value.size(), uid);
        // The last valid line wins, as in shadow's getdef(); (uid_t)-1 is no uid.
        if (error == std::errc{} && rest == value.data() + value.size() &&
            uid != static_cast<uid_t>(-1)) {
            found = uid;
        }
    }
    return found;
}

uid_t first_login_uid_from(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        return kDefaultFirstLoginUid;
    }
    std::string text(static_cast<std::size_t>(kMaxLoginDefsBytes), '\0');
    file.read(text.data(), kMaxLoginDefsBytes);
    text.resize(static_cast<std::size_t>(file.gcount()));
    return first_login_uid(text);
}

} // namespace apitoken::cli
