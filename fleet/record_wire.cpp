#include "fleet/record_wire.hpp"

#include "store/record_codec.hpp"

#include <sodium.h>

#include <vector>

namespace apitoken::fleet {

std::string record_to_wire(const store::TokenRecord& record) {
    store::TokenRecord shared = record;
    shared.use_count = 0;
    shared.last_used.reset();
    shared.last_service.clear();
    shared.last_rhost.clear();
    shared.recent_sources.clear();
    shared.expiry_warned = false;
    const std::string bytes = store::encode_record(shared);
    std::string hex(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                   bytes.size());
    hex.pop_back();
    return "\\x" + hex;
}

// Globs are checked (letters, digits, '-', '.', '*', '?', '[', ']'), and
// quoted all the same.
std::string hosts_literal(const std::vector<std::string>& hosts) {
    std::string out = "{";
    for (const auto& host : hosts) {
        if (out.size() > 1) {
            out += ',';
        }
        out += '"';
        for (const char c : host) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::optional<store::TokenRecord> record_from_wire(const store::TokenId& id,
                                                   std::string_view bytea_text) {
    if (!bytea_text.starts_with("\\x") || bytea_text.size() % 2 != 0) {
        return std::nullopt;
    }
    const std::string_view hex = bytea_text.substr(2);
    std::vector<unsigned char> bytes(hex.size() / 2);
    std::size_t length = 0;
    if (sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &length,
                       nullptr) != 0 ||
        length != bytes.size()) {
        return std::nullopt;
    }
    auto record = store::decode_record(
        id, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (record && record->id != id) {
        return std::nullopt;
    }
    return record;
}

} // namespace apitoken::fleet
