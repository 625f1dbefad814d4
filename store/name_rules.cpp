#include "store/name_rules.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace apitoken::store {
namespace {

// Decodes one UTF-8 code point at the front of `text`, strictly (no
// overlongs, no surrogates, nothing above U+10FFFF). Consumes it on success.
std::optional<char32_t> next_code_point(std::string_view& text) {
    const auto lead = static_cast<unsigned char>(text.front());
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        text.remove_prefix(1);
        return lead;
    }
    if ((lead & 0xE0U) == 0xC0U) {
        length = 2, value = lead & 0x1FU, minimum = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
        length = 3, value = lead & 0x0FU, minimum = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
        length = 4, value = lead & 0x07U, minimum = 0x10000;
    } else {
        return std::nullopt;
    }
    if (text.size() < length) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[i]);
        if ((next & 0xC0U) != 0x80U) {
            return std::nullopt;
        }
        value = (value << 6U) | (next & 0x3FU);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return std::nullopt;
    }
    text.remove_prefix(length);
    return value;
}

bool is_control(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

bool is_space(char32_t c) {
    return c == U' ' || c == 0xA0 || c == 0x3000;
}

bool has_ascii_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
}

} // namespace

std::string token_name_problem(std::string_view name) {
    if (name.empty()) {
        return "the token name is empty";
    }
    std::size_t chars = 0;
    char32_t first = 0;
    char32_t last = 0;
    for (std::string_view rest = name; !rest.empty(); ++chars) {
        const auto c = next_code_point(rest);
        if (!c) {
            return "the token name is not valid UTF-8";
        }
        if (is_control(*c)) {
            return "the token name contains a control character";
        }
        first = chars == 0 ? *c : first;
        last = *c;
    }
    if (chars > kMaxTokenNameChars) {
        return "the token name is longer than 64 characters";
    }
    if (is_space(first) || is_space(last)) {
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

std::string rhost_problem(std::string_view rhost) {
    if (rhost.size() > kMaxRhostBytes) {
        return "the remote host is longer than 255 bytes";
    }
    const bool printable = std::all_of(rhost.begin(), rhost.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7F;
    });
    if (!printable) {
        return "the remote host contains a character that is not printable ASCII";
    }
    return {};
}

} // namespace apitoken::store
