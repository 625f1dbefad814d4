#pragma once

#include "bench/store_fill.hpp"
#include "store/token_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace apitoken::bench {

// A use limit no run reaches: the bench's use-limited token pays the same
// durable write at every use as a one-time token pays at its only one.
inline constexpr std::uint64_t kNeverReachedUseLimit = 1'000'000'000;

// The one cost a use-limited token adds to an authentication, with nothing of
// ours around it but the store: TokenStore::consume_use, one LMDB write
// transaction fsync'ed at commit, on a store of its own (one token) in a
// directory next to apitokend's (under $TMPDIR, as the world's), so on the
// same file system and disk.
class DurableWrite {
public:
    DurableWrite();

    // Counts one use of the store's token (limit kNeverReachedUseLimit) from
    // `rhost`: 0 when it is on disk, 1 otherwise. One call at a time, as
    // apitokend makes them (on its event loop), whatever the clients.
    int consume(const std::string& rhost) noexcept;

private:
    testing::TempDir dir_{"apitoken-bench-write"};
    RealToken token_{"bench", 0, kNeverReachedUseLimit};
    store::TokenStore store_;
    std::mutex mutex_;
};

} // namespace apitoken::bench
