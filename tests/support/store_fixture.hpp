#pragma once

#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "store/token_record.hpp"
#include "store/token_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>
#include <vector>

namespace apitoken::testing {

// A token as a test holds it: the record to store and the text to
// authenticate with.
struct TestToken {
    store::TokenRecord record;
    std::string text;
};

inline store::TimePoint at(long long seconds) {
    return store::TimePoint{std::chrono::seconds{seconds}};
}

inline TestToken make_token(const std::string& user, const std::string& name,
                            store::TimePoint created = at(1'800'000'000)) {
    const store::GeneratedToken generated = store::generate_token();
    TestToken token;
    token.text = std::string(generated.text.view());
    token.record.id = generated.id;
    token.record.user = user;
    token.record.uid = 1000;
    token.record.name = name;
    token.record.created = created;
    token.record.hash = store::hash_token(token.text, store::HashParams::defaults());
    return token;
}

// What the daemon does with a presented token, minus NSS and policy: parse,
// look up by id, check owner and hash.
inline bool authenticates(const store::TokenStore& store, const std::string& user,
                          const std::string& text) {
    const auto id = store::parse_token(text);
    if (!id) {
        return false;
    }
    const auto record = store.find(*id);
    return record && record->user == user && store::verify_token(record->hash, text);
}

inline store::StoreOptions options_for(const TempDir& dir) {
    store::StoreOptions options;
    options.state_dir = dir / "state";
    options.initial_map_size = std::size_t{1} << 20U;
    return options;
}

} // namespace apitoken::testing
