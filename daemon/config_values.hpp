#pragma once

#include "daemon/config.hpp"

#include <charconv>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// The value parsers behind apitokend.conf's keys (config.cpp holds the keys
// and reads the file). Each checks one value and sets its field only when
// the value is good.
namespace apitoken::daemon::config_values {

using std::chrono::seconds;

// What is wrong with a value, as a sentence for the error message; empty when
// the value is fine. Setters return one instead of throwing so that a single
// place adds file, line and key.
using Problem = std::string;

// How much of a key or value an error message shows.
constexpr std::size_t kShownBytes = 64;

// Keys and values may hold any bytes (a binary file, an editor accident, an
// attacker): the message stays one printable line whatever they are.
std::string printable(std::string_view text);
// The value in quotes, as printable() shows it.
std::string quoted(std::string_view value);
std::string_view trim(std::string_view text);

// A whole number in [min, max]; sets `out` only when it is one.
template <typename Number>
Problem parse_number(std::string_view value, Number min, Number max, Number& out) {
    Number number{};
    const char* const end = value.data() + value.size();
    const auto [stop, error] = std::from_chars(value.data(), end, number);
    if (value.starts_with('-')) {
        return quoted(value) + " is negative";
    }
    if (error == std::errc::invalid_argument) {
        return quoted(value) + " is not a whole number";
    }
    if (stop != end) {
        return quoted(value) + " has text after the number";
    }
    if (error == std::errc::result_out_of_range || number < min || number > max) {
        return quoted(value) + " is out of range (" + std::to_string(min) + " to " +
               std::to_string(max) + ")";
    }
    out = number;
    return {};
}

Problem set_time_cost(Config& config, std::string_view value);
Problem set_memory_kib(Config& config, std::string_view value);
// A duration in [min, max]; `never_allowed` also accepts "never" (nullopt).
Problem parse_duration_value(std::string_view value, seconds min, seconds max,
                             std::optional<seconds>& out, bool never_allowed);
Problem set_duration(std::string_view value, seconds min, seconds max, seconds& out);
Problem set_lifetime(std::string_view value, std::optional<seconds>& out);
// Bytes, or with a suffix K, M or G (powers of 1024).
Problem set_store_size(std::string_view value, std::size_t& out);
Problem set_bool(std::string_view value, bool& out);
Problem set_group(std::string_view value, std::string& out);
// PAM service names separated by blanks and/or commas.
Problem set_services(std::string_view value, std::vector<std::string>& out);
// A libpq connection string: printable text (a password may be in it).
Problem set_conninfo(std::string_view value, std::string& out);
Problem set_socket_path(std::string_view value, std::string& out);
Problem set_host_name(std::string_view value, std::string& out);
// "fleet" or "this-host".
Problem set_create_scope(std::string_view value, bool& this_host);

} // namespace apitoken::daemon::config_values
