#include "store/imported_hash.hpp"

#include "contract/token_shape.hpp"
#include "store/sodium_init.hpp"
#include "store/token_hash.hpp"

#include <sodium.h>

#include <charconv>
#include <limits>
#include <map>
#include <new>
#include <tuple>
#include <utility>

namespace apitoken::store {
namespace {

constexpr std::size_t kDigestHexLength = 2 * std::tuple_size_v<Sha256Digest>;

// The digest a Jenkins hash holds; nullopt for any other hash.
std::optional<Sha256Digest> jenkins_digest(const std::string& hash) {
    if (!is_jenkins_hash(hash)) {
        return std::nullopt;
    }
    Sha256Digest digest{};
    const std::string_view hex = std::string_view(hash).substr(kJenkinsSha256Prefix.size());
    if (sodium_hex2bin(digest.data(), digest.size(), hex.data(), hex.size(), nullptr, nullptr,
                       nullptr) != 0) {
        return std::nullopt;
    }
    return digest;
}

// The algorithm (token_hash.hpp) and the one version libsodium writes.
constexpr std::string_view kArgon2idVersion = "v=19$";
constexpr std::size_t kSaltBytes = crypto_pwhash_SALTBYTES;
constexpr std::size_t kKiB = 1024;
// What libsodium's crypto_pwhash_str writes (argon2's default hash length).
constexpr std::size_t kArgon2idHashBytes = 32;

// The parts of libsodium's Argon2id string:
//   $argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt, base64>$<hash, base64>
struct Argon2idParts {
    std::uint64_t memory_kib = 0;
    std::uint64_t passes = 0;
    std::uint64_t lanes = 0;
    std::vector<unsigned char> salt;
    std::vector<unsigned char> hash;
};

std::optional<std::uint64_t> number_after(std::string_view text, std::string_view key) {
    if (!text.starts_with(key)) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data() + key.size(), end, value);
    return ec == std::errc() && ptr == end ? std::optional(value) : std::nullopt;
}

std::optional<std::vector<unsigned char>> from_base64(std::string_view text) {
    std::vector<unsigned char> out(text.size());
    std::size_t length = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length,
                          nullptr, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
        return std::nullopt;
    }
    out.resize(length);
    return out;
}

std::string to_base64(const std::vector<unsigned char>& bytes) {
    std::string out(
        sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    out.pop_back(); // the terminating NUL
    return out;
}

std::optional<Argon2idParts> parse_argon2id(std::string_view encoded) {
    if (!encoded.starts_with(kArgon2idPrefix) ||
        !encoded.substr(kArgon2idPrefix.size()).starts_with(kArgon2idVersion)) {
        return std::nullopt;
    }
    std::vector<std::string_view> fields; // parameters, salt, hash
    for (std::string_view rest = encoded.substr(kArgon2idPrefix.size() + kArgon2idVersion.size());
         !rest.empty();) {
        const auto dollar = rest.find('$');
        fields.push_back(rest.substr(0, dollar));
        rest = dollar == std::string_view::npos ? std::string_view() : rest.substr(dollar + 1);
    }
    if (fields.size() != 3) {
        return std::nullopt;
    }
    const std::string_view params = fields[0];
    const auto first_comma = params.find(',');
    const auto second_comma = params.find(',', first_comma + 1);
    if (first_comma == std::string_view::npos || second_comma == std::string_view::npos) {
        return std::nullopt;
    }
    const auto m = number_after(params.substr(0, first_comma), "m=");
    const auto t =
        number_after(params.substr(first_comma + 1, second_comma - first_comma - 1), "t=");
    const auto p = number_after(params.substr(second_comma + 1), "p=");
    auto salt = from_base64(fields[1]);
    auto hash = from_base64(fields[2]);
    if (!m || !t || !p || !salt || !hash) {
        return std::nullopt;
    }
    return Argon2idParts{*m, *t, *p, std::move(*salt), std::move(*hash)};
}

// The account's salt for its imported tokens' Argon2id hashes.
std::vector<unsigned char> account_salt(std::string_view user, uid_t uid) {
    const std::string input =
        "apitoken imported-token salt\n" + std::string(user) + "\n" + std::to_string(uid);
    std::vector<unsigned char> salt(kSaltBytes);
    crypto_generichash(salt.data(), salt.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size(), nullptr,
                       0);
    return salt;
}

// Argon2id's raw output for these parameters and salt; libsodium computes
// only one lane, the salt must be its size: nullopt otherwise.
std::optional<std::vector<unsigned char>> argon2id_output(const Argon2idParts& parts,
                                                          std::string_view secret) {
    if (parts.lanes != 1 || parts.salt.size() != kSaltBytes ||
        parts.hash.size() < crypto_pwhash_BYTES_MIN ||
        parts.memory_kib > std::numeric_limits<std::size_t>::max() / kKiB) {
        return std::nullopt;
    }
    std::vector<unsigned char> out(parts.hash.size());
    if (crypto_pwhash(out.data(), out.size(), secret.data(), secret.size(), parts.salt.data(),
                      parts.passes, static_cast<std::size_t>(parts.memory_kib * kKiB),
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return std::nullopt;
    }
    return out;
}

} // namespace

std::string jenkins_hash_from_hex(std::string_view hex) {
    if (hex.size() != kDigestHexLength || !is_lower_hex(hex)) {
        return {};
    }
    return std::string(kJenkinsSha256Prefix) + std::string(hex);
}

bool is_jenkins_hash(std::string_view hash) noexcept {
    return hash.size() == kJenkinsSha256Prefix.size() + kDigestHexLength &&
           hash.starts_with(kJenkinsSha256Prefix) &&
           is_lower_hex(hash.substr(kJenkinsSha256Prefix.size()));
}

bool verify_imported(const std::string& hash, std::string_view secret) noexcept {
    try {
        return match_imported({hash}, secret).index.has_value();
    } catch (...) {
        return false; // out of memory
    }
}

std::string hash_imported(std::string_view secret, std::string_view user, uid_t uid,
                          const HashParams& params) {
    ensure_sodium_initialized();
    params.validate();
    Argon2idParts parts{params.memlimit / kKiB, params.opslimit, 1, account_salt(user, uid),
                        std::vector<unsigned char>(kArgon2idHashBytes)};
    auto output = argon2id_output(parts, secret);
    if (!output) {
        throw std::bad_alloc(); // valid parameters: only the memory can fail
    }
    std::string encoded = std::string(kArgon2idPrefix) + std::string(kArgon2idVersion) +
                          "m=" + std::to_string(parts.memory_kib) +
                          ",t=" + std::to_string(parts.passes) + ",p=1$" + to_base64(parts.salt) +
                          "$" + to_base64(*output);
    sodium_memzero(output->data(), output->size());
    return encoded;
}

bool imported_needs_rehash(const std::string& hash, std::string_view user, uid_t uid,
                           const HashParams& params) noexcept {
    try {
        const auto parts = parse_argon2id(hash);
        return !parts || parts->memory_kib * kKiB != params.memlimit ||
               parts->passes != params.opslimit || parts->salt != account_salt(user, uid);
    } catch (...) {
        return false; // out of memory: next time
    }
}

ImportedMatch match_imported(const std::vector<std::string>& hashes, std::string_view secret) {
    ImportedMatch match;
    if (!sodium_ready()) {
        return match;
    }
    // The secret's SHA-256, once for every Jenkins hash.
    Sha256Digest given{};
    crypto_hash_sha256(given.data(), reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size());
    // Raw outputs by parameters and salt: one Argon2id run each.
    std::map<std::string, std::optional<std::vector<unsigned char>>> outputs;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        bool same = false;
        if (const auto stored = jenkins_digest(hashes[i])) {
            same = sodium_memcmp(stored->data(), given.data(), given.size()) == 0;
        } else if (const auto parts = parse_argon2id(hashes[i])) {
            const std::string key =
                std::to_string(parts->memory_kib) + "," + std::to_string(parts->passes) + "," +
                std::to_string(parts->hash.size()) + "," + to_base64(parts->salt);
            auto found = outputs.find(key);
            if (found == outputs.end()) {
                found = outputs.emplace(key, argon2id_output(*parts, secret)).first;
                ++match.argon2_runs;
            }
            same =
                found->second && found->second->size() == parts->hash.size() &&
                sodium_memcmp(found->second->data(), parts->hash.data(), parts->hash.size()) == 0;
        }
        if (same && !match.index) {
            match.index = i;
        }
    }
    for (auto& [key, output] : outputs) {
        if (output) {
            sodium_memzero(output->data(), output->size());
        }
    }
    sodium_memzero(given.data(), given.size());
    return match;
}

} // namespace apitoken::store
