#pragma once

#include "store/token_record.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::store {

// Version of the store's layout; bump it (and add a migration) whenever the
// meaning of what is on disk changes.
// 1: tokens, by_user, meta. 2: adds by_expiry (built from tokens on open).
inline constexpr std::uint32_t kSchemaVersion = 2;

struct StoreOptions {
    std::filesystem::path state_dir = "/var/lib/apitoken";
    std::size_t max_tokens_per_user = 100;
    // LMDB maps the store into memory; the map starts at initial_map_size and
    // doubles when full, up to max_map_size (only touched pages use memory).
    std::size_t initial_map_size = std::size_t{64} << 20U;
    std::size_t max_map_size = std::size_t{4} << 30U;
    // The schema this build writes and expects. Only tests change it, to act
    // as an older or newer build.
    std::uint32_t schema_version = kSchemaVersion;
};

// The token store: LMDB in the state directory, holding one record per token
// (key: the 6 id bytes), an index of ids by user, an index of expiring
// tokens by expiry time (so that a purge reads only what it deletes), and a
// meta table with the schema version. Every write is one LMDB transaction, durable once the call
// returns (LMDB fsyncs on commit), and all-or-nothing: a failed call changes
// nothing. Not thread-safe: one thread uses a store at a time.
//
// Failures throw StoreError (see store_error.hpp).
class TokenStore {
public:
    explicit TokenStore(StoreOptions options);
    TokenStore(const TokenStore&) = delete;
    TokenStore& operator=(const TokenStore&) = delete;
    TokenStore(TokenStore&& other) noexcept;
    TokenStore& operator=(TokenStore&& other) noexcept;
    ~TokenStore();

    // Adds a token. Refuses (DuplicateId, DuplicateName, TooManyTokens,
    // InvalidArgument) without writing anything.
    void create(const TokenRecord& record);
    // Adds many tokens in one transaction: all of them or none.
    void create_batch(std::span<const TokenRecord> records);

    [[nodiscard]] std::optional<TokenRecord> find(const TokenId& id) const;
    // The user's tokens, oldest first.
    [[nodiscard]] std::vector<TokenRecord> list(std::string_view user) const;
    [[nodiscard]] std::size_t count() const;
    [[nodiscard]] std::size_t count(std::string_view user) const;

    // NotFound unless the token exists and belongs to `user`: nobody learns
    // whether another user's token id exists.
    void revoke(std::string_view user, const TokenId& id);
    std::size_t revoke_all(std::string_view user);
    void rename(std::string_view user, const TokenId& id, std::string_view new_name);

    // Swaps the hash only if it is still `old_hash` (a re-hash computed off
    // the store's thread must not resurrect a token revoked meanwhile).
    bool replace_hash(const TokenId& id, const std::string& old_hash, const std::string& new_hash);

    // Applies many uses in one write transaction; uses of tokens revoked
    // meanwhile are dropped. Returns how many were applied.
    std::size_t record_usage(std::span<const UsageEvent> events);

    // Deletes tokens that expired more than `grace` before `now`.
    std::size_t purge_expired(TimePoint now, std::chrono::seconds grace);

    [[nodiscard]] std::size_t map_size() const;
    // False once data.mdb in the state directory is no longer the file this
    // store has open (the directory was removed or replaced under it): what
    // is written then would be lost, so every write refuses
    // (StateDirUnusable), and the daemon exits to be restarted.
    [[nodiscard]] bool still_in_place() const;
    [[nodiscard]] const std::filesystem::path& state_dir() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace apitoken::store
