#include "store/name_rules.hpp"

#include "contract/printable_text.hpp"

#include <algorithm>

namespace apitoken::store {
namespace {

bool has_ascii_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
}

// Printable ASCII without the space: what a CIDR or a host-name glob is
// written with.
bool is_ascii_word(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F;
    });
}

// At most `max_entries` entries, each 1-`max_bytes` bytes of ascii words.
std::string word_list_problem(const std::vector<std::string>& list, std::size_t max_entries,
                              std::size_t max_bytes, const std::string& what) {
    if (list.size() > max_entries) {
        return "a token may have at most " + std::to_string(max_entries) + " " + what;
    }
    for (const auto& entry : list) {
        if (entry.empty() || entry.size() > max_bytes) {
            return "each of a token's " + what + " must be 1 to " + std::to_string(max_bytes) +
                   " bytes long";
        }
        if (!is_ascii_word(entry)) {
            return "one of a token's " + what +
                   " contains a space or a character that is not printable ASCII";
        }
    }
    return {};
}

} // namespace

std::string token_name_problem(std::string_view name) {
    if (name.empty()) {
        return "the token name is empty";
    }
    // No character takes more than 4 bytes: refuse what is long in any case
    // before looking at each code point.
    if (name.size() > 4 * kMaxTokenNameChars) {
        return "the token name is longer than 64 characters";
    }
    if (std::string problem = text::printable_text_problem(name, "the token name");
        !problem.empty()) {
        return problem;
    }
    if (text::code_point_count(name) > kMaxTokenNameChars) {
        return "the token name is longer than 64 characters";
    }
    if (text::starts_or_ends_with_space(name)) {
        return "the token name starts or ends with a space";
    }
    return {};
}

std::string user_name_problem(std::string_view user) {
    if (user.empty() || user.size() > kMaxUserNameBytes) {
        return "the user name must be 1 to 256 bytes long";
    }
    if (has_ascii_control(user) || user.find_first_of("/:") != std::string_view::npos) {
        return "the user name contains a control character, '/' or ':'";
    }
    return {};
}

std::string service_name_problem(std::string_view service) {
    if (service.empty() || service.size() > kMaxServiceNameBytes) {
        return "a service name must be 1 to 64 characters long";
    }
    const bool allowed = std::all_of(service.begin(), service.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("._+@-").find(c) != std::string_view::npos;
    });
    if (!allowed || service.front() == '.') {
        return "a service name may only contain letters, digits and . _ + @ - "
               "and must not start with '.'";
    }
    return {};
}

std::string services_problem(const std::vector<std::string>& services) {
    if (services.size() > kMaxServicesPerToken) {
        return "a token may name at most " + std::to_string(kMaxServicesPerToken) + " services";
    }
    for (const auto& service : services) {
        if (std::string problem = service_name_problem(service); !problem.empty()) {
            return problem;
        }
    }
    return {};
}

std::string rhost_problem(std::string_view rhost) {
    if (rhost.size() > kMaxRhostBytes) {
        return "the remote host is longer than 255 bytes";
    }
    if (!is_ascii_word(rhost)) {
        return "the remote host contains a character that is not printable ASCII";
    }
    return {};
}

std::string description_problem(std::string_view description) {
    // As for names: refuse what is long in any case before reading code points.
    const bool too_long = description.size() > 4 * kMaxDescriptionChars;
    if (!too_long) {
        if (std::string problem = text::printable_text_problem(description, "the description");
            !problem.empty()) {
            return problem;
        }
    }
    if (too_long || text::code_point_count(description) > kMaxDescriptionChars) {
        return "the description is longer than " + std::to_string(kMaxDescriptionChars) +
               " characters";
    }
    return {};
}

std::string sources_problem(const std::vector<std::string>& sources) {
    return word_list_problem(sources, kMaxSourcesPerToken, kMaxSourceBytes, "source networks");
}

std::string hosts_problem(const std::vector<std::string>& hosts) {
    return word_list_problem(hosts, kMaxHostsPerToken, kMaxHostBytes, "host names");
}

} // namespace apitoken::store
