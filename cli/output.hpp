#pragma once

// What every command prints with: errors, names for people, JSON text, the
// aligned table, the secret straight from its wiped buffer.

#include "ipc/bus_client.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::cli {

[[nodiscard]] std::int64_t now_seconds();

// Prints "apitokenctl: <failure_message>" on stderr; returns kExitFailed.
int fail(const ipc::Outcome& outcome, const std::string& subject);
// Prints "apitokenctl: <message>" on stderr; returns kExitUsage.
int usage_error(const std::string& message);

// "your tokens", "alice's tokens".
[[nodiscard]] std::string whose(const std::string& user);

// Free text as people read it (a name, a description, an rhost): anything
// that breaks the rule for printable text (stored by an older version, or
// reported by a service) escaped, e.g. \u{202E}. JSON keeps the real text.
[[nodiscard]] std::string shown(std::string_view text);

// JSON text of a value that holds names: the real names (they parse back
// unchanged), with what breaks the rule for names \u-escaped, so that the
// JSON shown on a terminal cannot hide or reorder anything either.
[[nodiscard]] std::string json_text(const nlohmann::json& value, int indent = -1);

// Text as JSON can carry it: as it is when it is UTF-8, else (a path in
// Latin-1, random bytes) with each byte that is not UTF-8 as \xNN, so that
// one such text cannot stop the whole report (a strict dump would throw).
[[nodiscard]] std::string json_safe_text(const std::string& text);

// Prints rows with each column as wide as its widest cell, in terminal
// columns (a wide character takes two).
void print_table(const std::vector<std::vector<std::string>>& rows);

// The token goes to stdout straight from its wiped buffer, never through a
// std::string or a JSON value that would leave a copy behind.
void write_secret(std::string_view token);

// {"token": "<secret>", ...rest}: `rest` is a JSON object, printed after
// the secret without the secret ever being part of a JSON value.
void print_secret_json(std::string_view token, const nlohmann::json& rest);

} // namespace apitoken::cli
