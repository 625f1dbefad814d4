#include "store/token_hash.hpp"

#include "store/sodium_init.hpp"

#include <sodium.h>

#include <array>
#include <new>
#include <stdexcept>

namespace apitoken::store {

HashParams HashParams::defaults() noexcept {
    return {crypto_pwhash_argon2id_OPSLIMIT_MIN, std::size_t{64} * 1024};
}

HashParams HashParams::interactive() noexcept {
    return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

void HashParams::validate() const {
    if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
        throw std::invalid_argument("Argon2id time cost must be between " +
                                    std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MIN) + " and " +
                                    std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MAX));
    }
    // The upper bound is capped by what fits a size_t; 4 GiB is already far
    // beyond anything sensible for a login path.
    constexpr std::size_t kMaxMemlimit = std::size_t{4} * 1024 * 1024 * 1024;
    if (memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN || memlimit > kMaxMemlimit) {
        throw std::invalid_argument("Argon2id memory cost must be between " +
                                    std::to_string(crypto_pwhash_argon2id_MEMLIMIT_MIN) + " and " +
                                    std::to_string(kMaxMemlimit) + " bytes");
    }
}

std::string hash_token(std::string_view token, const HashParams& params) {
    ensure_sodium_initialized();
    params.validate();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), token.data(), token.size(), params.opslimit,
                              params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        // The only failure left once parameters are valid is allocation.
        throw std::bad_alloc();
    }
    return {out.data()};
}

bool verify_token(const std::string& hash, std::string_view token) noexcept {
    // Only Argon2id strings are ours; refuse anything else outright rather
    // than let a planted argon2i or scrypt string through.
    if (!sodium_ready() || !hash.starts_with(kArgon2idPrefix)) {
        return false;
    }
    return crypto_pwhash_str_verify(hash.c_str(), token.data(), token.size()) == 0;
}

bool needs_rehash(const std::string& hash, const HashParams& params) noexcept {
    if (!sodium_ready()) {
        return false;
    }
    return crypto_pwhash_str_needs_rehash(hash.c_str(), params.opslimit, params.memlimit) != 0;
}

} // namespace apitoken::store
