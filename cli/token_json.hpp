#pragma once

#include "ipc/token_info.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace apitoken::cli {

// The documented machine form of a token (apitokenctl(1), "JSON OUTPUT"):
// the keys of ListTokensEx (ipc/bus_api.hpp), plus "expired"; times as RFC
// 3339 text, absent values (time 0, empty text, no limit) as null. What an
// older daemon does not say (owner, uid, creator) is null too.
[[nodiscard]] nlohmann::json token_json(const ipc::TokenInfo& token, std::int64_t now);

} // namespace apitoken::cli
