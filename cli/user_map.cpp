#include "cli/user_map.hpp"

#include "cli/output.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <vector>

namespace apitoken::cli {
namespace {

constexpr std::uintmax_t kMaxMapBytes = std::uintmax_t{16} << 20U;
constexpr std::string_view kBlanks = " \t\r\v\f";

// The words of one line, up to a word that starts a comment.
std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t at = line.find_first_not_of(kBlanks);
    while (at != std::string_view::npos) {
        const std::size_t end = std::min(line.find_first_of(kBlanks, at), line.size());
        const std::string_view word = line.substr(at, end - at);
        if (word.starts_with('#')) {
            break;
        }
        words.push_back(word);
        at = line.find_first_not_of(kBlanks, end);
    }
    return words;
}

UserMapParse error_at(const std::string& file_name, std::size_t line, const std::string& what) {
    return {std::nullopt, shown(file_name) + ":" + std::to_string(line) + ": " + what};
}

} // namespace

std::string UserMap::local_user(std::string_view jenkins_id) const {
    const auto found = local_of_.find(jenkins_id);
    return found == local_of_.end() ? std::string(jenkins_id) : found->second;
}

bool UserMap::add(std::string jenkins_id, std::string local_user) {
    const auto [entry, added] = local_of_.try_emplace(std::move(jenkins_id));
    if (added) {
        entry->second = std::move(local_user);
    }
    return added;
}

UserMapParse parse_user_map(std::string_view text, const std::string& file_name) {
    UserMap map;
    std::map<std::string, std::size_t, std::less<>> line_of; // where each id was given
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::vector<std::string_view> words = words_of(text.substr(0, end));
        text.remove_prefix(std::min(end + 1, text.size()));
        if (words.empty()) {
            continue;
        }
        if (words.size() != 2) {
            return error_at(file_name, number,
                            "expected \"JENKINS_ID LOCAL_USER\", found " +
                                std::to_string(words.size()) +
                                (words.size() == 1 ? " word" : " words"));
        }
        if (!map.add(std::string(words[0]), std::string(words[1]))) {
            return error_at(file_name, number,
                            "Jenkins user " + shown(words[0]) + " is mapped twice (first on line " +
                                std::to_string(line_of.find(words[0])->second) + ")");
        }
        line_of.emplace(words[0], number);
    }
    return {std::move(map), {}};
}

UserMapParse read_user_map(const std::filesystem::path& file) {
    const std::string name = file.string();
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(file, error);
    if (error) {
        return {std::nullopt, shown(name) + ": " + error.message()};
    }
    if (size > kMaxMapBytes) {
        return {std::nullopt, shown(name) + ": larger than 16 MiB: not a user map"};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return {std::nullopt, shown(name) + ": cannot be opened"};
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_user_map(text, name);
}

} // namespace apitoken::cli
