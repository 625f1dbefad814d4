#pragma once

#include "store/token_format.hpp"
#include "store/token_hash.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace apitoken::bench {

// The one token of a run that really authenticates, and its owner (a user
// the daemon can resolve, with the uid it had when the token was made).
struct RealToken {
    std::string user;
    uid_t uid = 0;
    store::GeneratedToken token = store::generate_token();
    std::string text = std::string(token.text.view());
};

// What filling a state directory took.
struct FillReport {
    std::size_t tokens = 0;
    double seconds = 0;
    std::uintmax_t data_bytes = 0; // data.mdb
};

// Makes `state_dir` a store of `count` tokens for apitokend running as
// `daemon_uid`: `real` first, then tokens of made-up users (ten each), all
// sharing one real Argon2id hash of `real` made with `params` (hashing a
// million tokens would take minutes and measure Argon2, not the store).
// Whatever the directory held before is deleted.
FillReport fill_state_dir(const std::filesystem::path& state_dir, std::size_t count,
                          const RealToken& real, const store::HashParams& params, uid_t daemon_uid);

} // namespace apitoken::bench
