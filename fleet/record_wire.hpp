#pragma once

#include "store/token_record.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::fleet {

// A record as the fleet database keeps it: the store's own encoding
// (store/record_codec.hpp) without this host's usage statistics, as
// PostgreSQL's bytea text ("\x" + hex).
[[nodiscard]] std::string record_to_wire(const store::TokenRecord& record);
// The record back; nullopt when the bytes are not a record of that id.
[[nodiscard]] std::optional<store::TokenRecord> record_from_wire(const store::TokenId& id,
                                                                 std::string_view bytea_text);

// Host globs as a PostgreSQL array literal ({"web-*","db-1"}).
[[nodiscard]] std::string hosts_literal(const std::vector<std::string>& hosts);

} // namespace apitoken::fleet
