#include "cli/output.hpp"

#include "cli/exit_status.hpp"
#include "cli/failure_message.hpp"
#include "contract/printable_text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace apitoken::cli {

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int fail(const ipc::Outcome& outcome, const std::string& subject) {
    std::cerr << "apitokenctl: " << failure_message(outcome, subject) << '\n';
    return kExitFailed;
}

int usage_error(const std::string& message) {
    std::cerr << "apitokenctl: " << message << '\n';
    return kExitUsage;
}

std::string whose(const std::string& user) {
    return user.empty() ? "your tokens" : shown(user) + "'s tokens";
}

std::string shown(std::string_view text) {
    return text::escaped_for_display(text);
}

std::string json_text(const nlohmann::json& value, int indent) {
    return text::escaped_for_json(value.dump(indent));
}

std::string json_safe_text(const std::string& text) {
    try {
        static_cast<void>(nlohmann::json(text).dump());
        return text;
    } catch (const nlohmann::json::type_error&) {
        return shown(text);
    }
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], text::display_columns(row[i]));
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - text::display_columns(row[i]) + 2, ' ');
            }
        }
        // An empty last cell leaves no padding behind.
        line.erase(line.find_last_not_of(' ') + 1);
        std::cout << line << '\n';
    }
}

void write_secret(std::string_view token) {
    std::cout.flush();
    static_cast<void>(std::fwrite(token.data(), 1, token.size(), stdout));
}

void print_secret_json(std::string_view token, const nlohmann::json& rest) {
    std::cout << R"({"token":")";
    write_secret(token);
    const std::string tail = json_text(rest);
    // rest is an object: "{...}" continues ours after a comma, "{}" closes it.
    std::cout << (tail == "{}" ? "\"}" : "\"," + tail.substr(1)) << '\n';
}

} // namespace apitoken::cli
