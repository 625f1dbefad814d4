#pragma once

#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "store/token_store.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace apitoken::bench {

// Ten tokens per made-up user: more than most users have, so the user index
// does real work during the fill.
inline constexpr std::size_t kTokensPerUser = 10;
// One write transaction per chunk: LMDB fsyncs once per commit, so a chunk
// per token would measure the disk, not the store.
inline constexpr std::size_t kFillChunk = 10'000;

// A token of a run that really authenticates, and its owner (a user the
// daemon can resolve, with the uid it had when the token was made).
struct RealToken {
    std::string user;
    uid_t uid = 0;
    std::uint64_t max_uses = 0; // 0: unlimited (TokenRecord::max_uses)
    store::GeneratedToken token = store::generate_token();
    std::string text = std::string(token.text.view());
};

// A real token and the Argon2id hash its record holds.
struct RealRecord {
    const RealToken* token = nullptr;
    std::string hash;
};

// What filling a state directory took.
struct FillReport {
    std::size_t tokens = 0;
    double seconds = 0;
    std::uintmax_t data_bytes = 0; // data.mdb
};

// `count` distinct random ids, `first` first, in order (the real tokens').
std::vector<store::TokenId> distinct_random_ids(std::size_t count,
                                                const std::vector<store::TokenId>& first);

// What a filled store needs: kTokensPerUser per user, a map for millions.
store::StoreOptions fill_store_options(const std::filesystem::path& state_dir);

// Stores one token per id, kFillChunk to a transaction: ids[i] is real[i]'s
// (with its hash and use limit) for the first real.size() ids; the others
// belong to made-up users (kTokensPerUser each), who never authenticate, and
// have real[0]'s hash.
void insert_tokens(store::TokenStore& store, const std::vector<store::TokenId>& ids,
                   const std::vector<RealRecord>& real);

// Makes `state_dir` a store of `count` tokens for apitokend running as
// `daemon_uid`: the `real` tokens first, each with a real Argon2id hash of
// its own made with `params`, then tokens of made-up users (ten each), all
// sharing real[0]'s hash (hashing a million tokens would take minutes and
// measure Argon2, not the store). Whatever the directory held before is
// deleted.
FillReport fill_state_dir(const std::filesystem::path& state_dir, std::size_t count,
                          const std::vector<const RealToken*>& real,
                          const store::HashParams& params, uid_t daemon_uid);

} // namespace apitoken::bench
