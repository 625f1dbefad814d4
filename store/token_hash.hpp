#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apitoken::store {

// How every hash we make and accept begins (crypto_pwhash_str_alg with
// ARGON2ID13): the store refuses to keep, and verify_token to check, any
// other kind (argon2i, scrypt) that someone might plant.
inline constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// Argon2id cost parameters (libsodium's opslimit / memlimit). They end up
// inside every hash string, so changing them never invalidates old hashes;
// needs_rehash() tells when a stored hash should be upgraded.
struct HashParams {
    unsigned long long opslimit = 0;
    std::size_t memlimit = 0;

    // Defaults for tokens: their secret is 128 bits from a CSPRNG, so an
    // attacker holding the hash faces ~2^127 guesses whatever the Argon2 cost;
    // the cost only has to keep the hash a real one-way function, not to
    // stretch a weak password. We therefore take the minimum time cost and a
    // small memory cost: measured with crypto_pwhash_str_verify on the 2-core
    // development machine (2026-11), t=1 costs 28 us at 8 KiB, 64 us at 64 KiB,
    // 181 us at 256 KiB and 661 us at 1 MiB. 64 KiB keeps Argon2's memory
    // hardness meaningful while a verify stays well under a millisecond, so
    // authentication is bounded by the bus, not the hash (bench/ measures it).
    [[nodiscard]] static HashParams defaults() noexcept;
    // libsodium's INTERACTIVE limits (t=2, 64 MiB): for admins who want
    // password-grade hashing anyway.
    [[nodiscard]] static HashParams interactive() noexcept;

    // Throws std::invalid_argument when outside libsodium's Argon2id limits.
    void validate() const;

    bool operator==(const HashParams&) const = default;
};

// crypto_pwhash_str (Argon2id) of the token text. Throws std::bad_alloc when
// the hashing memory cannot be had.
[[nodiscard]] std::string hash_token(std::string_view token, const HashParams& params);

// True only when `hash` is a valid Argon2id string that matches `token`
// (libsodium compares in constant time).
[[nodiscard]] bool verify_token(const std::string& hash, std::string_view token) noexcept;

// True when `hash` was made with other parameters than `params` (or is not a
// hash this build can read), so it should be re-hashed on next successful use.
[[nodiscard]] bool needs_rehash(const std::string& hash, const HashParams& params) noexcept;

} // namespace apitoken::store
