#include "daemon/config.hpp"

#include "daemon/config_values.hpp"

#include "contract/duration.hpp"
#include "contract/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace apitoken::daemon {
namespace {

using config_values::parse_duration_value;
using config_values::parse_number;
using config_values::printable;
using config_values::Problem;
using config_values::quoted;
using config_values::seconds;
using config_values::set_bool;
using config_values::set_conninfo;
using config_values::set_create_scope;
using config_values::set_duration;
using config_values::set_group;
using config_values::set_host_name;
using config_values::set_lifetime;
using config_values::set_memory_kib;
using config_values::set_services;
using config_values::set_socket_path;
using config_values::set_store_size;
using config_values::set_time_cost;
using config_values::trim;

struct KeyRule {
    std::string_view key;
    Problem (*set)(Config&, std::string_view value);
    // Whether "key =" with nothing after it is a value (an empty list) rather
    // than a mistake.
    bool empty_allowed = false;
};

// Every key of the file. systemd/apitokend.conf documents each one.
constexpr std::array kRules{
    KeyRule{"argon2_time_cost", set_time_cost},
    KeyRule{"argon2_memory_kib", set_memory_kib},
    KeyRule{"workers",
            [](Config& c, std::string_view v) { return parse_number(v, 0U, 1024U, c.workers); }},
    KeyRule{"queue_size",
            [](Config& c, std::string_view v) {
                return parse_number(v, std::size_t{1}, std::size_t{65536}, c.queue_size);
            }},
    KeyRule{"throttle_max_failures",
            [](Config& c, std::string_view v) {
                return parse_number(v, 1U, 1000U, c.throttle_max_failures);
            }},
    KeyRule{"throttle_window",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, kMaxDuration, c.throttle_window);
            }},
    KeyRule{"default_lifetime",
            [](Config& c, std::string_view v) { return set_lifetime(v, c.default_lifetime); }},
    KeyRule{"max_lifetime",
            [](Config& c, std::string_view v) { return set_lifetime(v, c.max_lifetime); }},
    KeyRule{"max_tokens_per_user",
            [](Config& c, std::string_view v) {
                return parse_number(v, std::size_t{1}, std::size_t{100000}, c.max_tokens_per_user);
            }},
    KeyRule{"auth_group", [](Config& c, std::string_view v) { return set_group(v, c.auth_group); }},
    KeyRule{"admin_group",
            [](Config& c, std::string_view v) { return set_group(v, c.admin_group); }},
    KeyRule{"usage_flush_interval",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, std::chrono::hours{1}, c.usage_flush_interval);
            }},
    KeyRule{"expired_retention",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, kMaxDuration, c.expired_retention);
            }},
    KeyRule{"max_store_size",
            [](Config& c, std::string_view v) { return set_store_size(v, c.max_store_size); }},
    KeyRule{"debug", [](Config& c, std::string_view v) { return set_bool(v, c.debug); }},
    KeyRule{"require_expiry",
            [](Config& c, std::string_view v) { return set_bool(v, c.require_expiry); }},
    KeyRule{"max_idle",
            [](Config& c, std::string_view v) {
                return parse_duration_value(v, seconds{1}, kMaxDuration, c.max_idle, true);
            }},
    KeyRule{"allowed_services",
            [](Config& c, std::string_view v) { return set_services(v, c.allowed_services); },
            true},
    KeyRule{"require_services",
            [](Config& c, std::string_view v) { return set_bool(v, c.require_services); }},
    KeyRule{"expiry_warning",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, kMaxDuration, c.expiry_warning);
            }},
    KeyRule{"direct_socket",
            [](Config& c, std::string_view v) { return set_socket_path(v, c.direct_socket); }},
    KeyRule{"fleet_database",
            [](Config& c, std::string_view v) { return set_conninfo(v, c.fleet_database); }, true},
    KeyRule{"fleet_host_name",
            [](Config& c, std::string_view v) { return set_host_name(v, c.fleet_host_name); },
            true},
    KeyRule{"fleet_offline_grace",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, kMaxDuration, c.fleet_offline_grace);
            }},
    KeyRule{"fleet_poll_interval",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, std::chrono::hours{1}, c.fleet_poll_interval);
            }},
    KeyRule{"fleet_usage_flush_interval",
            [](Config& c, std::string_view v) {
                return set_duration(v, seconds{1}, std::chrono::hours{1},
                                    c.fleet_usage_flush_interval);
            }},
    KeyRule{"fleet_create_scope",
            [](Config& c, std::string_view v) {
                return set_create_scope(v, c.fleet_create_scope_this_host);
            }},
    KeyRule{"fleet_listen",
            [](Config& c, std::string_view v) { return set_bool(v, c.fleet_listen); }},
    KeyRule{"fleet_match_uid",
            [](Config& c, std::string_view v) { return set_bool(v, c.fleet_match_uid); }},
};

std::optional<std::size_t> rule_index(std::string_view key) {
    for (std::size_t i = 0; i < kRules.size(); ++i) {
        if (kRules[i].key == key) {
            return i;
        }
    }
    return std::nullopt;
}

class ConfigParser {
public:
    explicit ConfigParser(const std::string& file_name) : file_name_(file_name) {}

    void parse_line(std::size_t line, std::string_view text) {
        if (text.size() > kMaxConfigLineBytes) {
            fail(line, "line is longer than " + std::to_string(kMaxConfigLineBytes) + " bytes");
        }
        text = trim(text);
        if (text.empty() || text.starts_with('#')) {
            return;
        }
        const auto equals = text.find('=');
        if (equals == std::string_view::npos) {
            fail(line, quoted(text) + " is not 'key = value' (comments start with '#')");
        }
        const std::string_view key = trim(text.substr(0, equals));
        const std::string_view value = trim(text.substr(equals + 1));
        if (key.empty()) {
            fail(line, "'= " + printable(value) + "' has no key before '='");
        }
        set(line, key, value);
    }

    Config finish() {
        check_lifetimes();
        check_required_expiry();
        check_offline_grace();
        return config_;
    }

private:
    const std::string& file_name_;
    Config config_;
    // The line each key was set on; 0 while it is not set.
    std::array<std::size_t, kRules.size()> set_on_line_{};

    [[noreturn]] void fail(std::size_t line, const std::string& what) const {
        throw ConfigError(file_name_ + ":" + std::to_string(line) + ": " + what);
    }

    [[noreturn]] void fail(std::size_t line, std::string_view key, const std::string& what) const {
        fail(line, printable(key) + ": " + what);
    }

    void set(std::size_t line, std::string_view key, std::string_view value) {
        const auto index = rule_index(key);
        if (!index) {
            fail(line, key, "unknown key");
        }
        if (set_on_line_.at(*index) != 0) {
            fail(line, key,
                 "set again (already set on line " + std::to_string(set_on_line_.at(*index)) + ")");
        }
        if (value.empty() && !kRules.at(*index).empty_allowed) {
            fail(line, key, "the value is empty");
        }
        const Problem problem = kRules.at(*index).set(config_, value);
        if (!problem.empty()) {
            fail(line, key, problem);
        }
        set_on_line_.at(*index) = line;
    }

    std::size_t line_of(std::string_view key) const {
        return set_on_line_.at(rule_index(key).value());
    }

    // Keeps Config's promise: with a maximum, every new token has a lifetime
    // within it. Left out, default_lifetime takes the maximum, which is what
    // an admin who only bounds lifetimes means; written out, it must fit.
    void check_lifetimes() {
        if (!config_.max_lifetime) {
            return;
        }
        const std::string bound = "max_lifetime (" + format_duration(*config_.max_lifetime) +
                                  ", line " + std::to_string(line_of("max_lifetime")) + ")";
        if (!config_.default_lifetime) {
            if (line_of("default_lifetime") == 0) {
                config_.default_lifetime = config_.max_lifetime;
                return;
            }
            fail(line_of("default_lifetime"), "default_lifetime", "never is longer than " + bound);
        }
        if (*config_.default_lifetime > *config_.max_lifetime) {
            fail(line_of("default_lifetime"), "default_lifetime",
                 format_duration(*config_.default_lifetime) + " is longer than " + bound);
        }
    }

    // Keeps Config's promise: with require_expiry, a token created without
    // --expires gets default_lifetime. Without one, such a create could only
    // fail, which no admin asking for expiring tokens means; so the file must
    // say how long (default_lifetime, or max_lifetime, which becomes it).
    void check_required_expiry() {
        if (!config_.require_expiry || config_.default_lifetime) {
            return;
        }
        const std::size_t default_line = line_of("default_lifetime");
        if (default_line != 0) {
            fail(default_line, "default_lifetime",
                 "never contradicts require_expiry (line " +
                     std::to_string(line_of("require_expiry")) + ")");
        }
        fail(line_of("require_expiry"), "require_expiry",
             "needs default_lifetime or max_lifetime: the lifetime of a token created without "
             "--expires");
    }

    // A host counts as in sync once per poll: a grace not well beyond the
    // poll interval would fail token logins closed between two polls.
    void check_offline_grace() {
        if (config_.fleet_offline_grace >= 2 * config_.fleet_poll_interval) {
            return;
        }
        const std::size_t grace_line = line_of("fleet_offline_grace");
        fail(grace_line != 0 ? grace_line : line_of("fleet_poll_interval"), "fleet_offline_grace",
             "must be at least twice fleet_poll_interval (a host hears from the database once "
             "per poll)");
    }
};

[[noreturn]] void cannot_read(const std::string& file_name, int error) {
    throw ConfigError(file_name + ": cannot read: " + std::generic_category().message(error));
}

// A regular file, or a character device so that --config=/dev/null means "no
// settings". Directories, FIFOs and sockets are refused.
void check_file_kind(int fd, const std::string& file_name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        cannot_read(file_name, errno);
    }
    if (S_ISDIR(st.st_mode)) {
        cannot_read(file_name, EISDIR);
    }
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
        throw ConfigError(file_name + ": cannot read: not a regular file");
    }
}

// Reads at most one chunk past kMaxConfigFileBytes, so /dev/zero or a huge
// file costs little; parse_config then refuses the oversized text.
std::string read_bounded(int fd, const std::string& file_name) {
    std::string text;
    std::array<char, 16384> chunk{};
    while (text.size() <= kMaxConfigFileBytes) {
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            cannot_read(file_name, errno);
        }
        if (got == 0) {
            break;
        }
        text.append(chunk.data(), static_cast<std::size_t>(got));
    }
    return text;
}

} // namespace

bool Config::service_allowed(std::string_view service) const noexcept {
    return allowed_services.empty() || std::find(allowed_services.begin(), allowed_services.end(),
                                                 service) != allowed_services.end();
}

Config parse_config(std::string_view text, const std::string& file_name) {
    if (text.size() > kMaxConfigFileBytes) {
        throw ConfigError(file_name + ": file is larger than 1 MiB");
    }
    ConfigParser parser(file_name);
    std::size_t line = 0;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        parser.parse_line(++line, text.substr(0, newline));
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    }
    return parser.finish();
}

Config load_config(const std::filesystem::path& path, bool must_exist) {
    const std::string file_name = path.string();
    // O_NONBLOCK keeps a FIFO from hanging the open; check_file_kind refuses it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    const int open_error = errno;
    const UniqueFd file(fd);
    if (fd < 0 && open_error == ENOENT && !must_exist) {
        return Config{};
    }
    if (fd < 0) {
        cannot_read(file_name, open_error);
    }
    check_file_kind(fd, file_name);
    return parse_config(read_bounded(fd, file_name), file_name);
}

} // namespace apitoken::daemon
