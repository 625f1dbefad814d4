#include "pam_module/module_options.hpp"

#include <charconv>
#include <optional>

namespace apitoken::pam {
namespace {

constexpr std::string_view kTimeoutKey = "timeout=";
constexpr std::chrono::milliseconds kMaxTimeout{std::chrono::seconds(300)};

// "5" or "2.5" (at most millisecond precision) -> milliseconds.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    long seconds = 0;
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    if (ec != std::errc() || end != whole.data() + whole.size() || whole.empty() ||
        fraction.size() > 3 || (dot != std::string_view::npos && fraction.empty())) {
        return std::nullopt;
    }
    long millis = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const char c = i < fraction.size() ? fraction[i] : '0';
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        millis = millis * 10 + (c - '0');
    }
    if (seconds > kMaxTimeout.count() / 1000) {
        return std::nullopt;
    }
    const std::chrono::milliseconds total{seconds * 1000 + millis};
    if (total.count() <= 0 || total > kMaxTimeout) {
        return std::nullopt;
    }
    return total;
}

} // namespace

ModuleOptions parse_module_options(int argc, const char** argv) {
    ModuleOptions options;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i] != nullptr ? argv[i] : "";
        if (arg == "debug") {
            options.debug = true;
        } else if (arg == "use_first_pass") {
            options.source = TokenSource::UseFirstPass;
        } else if (arg == "try_first_pass") {
            options.source = TokenSource::TryFirstPass;
        } else if (arg == "ignore_unknown_user") {
            options.ignore_unknown_user = true;
        } else if (arg == "ignore_authinfo_unavail") {
            options.ignore_authinfo_unavail = true;
        } else if (arg == "jenkins_tokens") {
            options.jenkins_tokens = true;
        } else if (arg == "bus_only") {
            options.bus_only = true;
        } else if (arg.starts_with(kTimeoutKey)) {
            const auto timeout = parse_seconds(arg.substr(kTimeoutKey.size()));
            if (timeout) {
                options.timeout = *timeout;
            } else {
                options.unknown.emplace_back(arg);
            }
        } else {
            options.unknown.emplace_back(arg);
        }
    }
    return options;
}

} // namespace apitoken::pam
