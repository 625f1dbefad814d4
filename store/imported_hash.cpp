#include "store/imported_hash.hpp"

#include "contract/token_shape.hpp"
#include "store/sodium_init.hpp"
#include "store/token_hash.hpp"

#include <sodium.h>

#include <tuple>

namespace apitoken::store {
namespace {

constexpr std::size_t kDigestHexLength = 2 * std::tuple_size_v<Sha256Digest>;

} // namespace

std::string jenkins_hash_text(const Sha256Digest& digest) {
    std::string hex(kDigestHexLength + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    hex.pop_back();
    return std::string(kJenkinsSha256Prefix) + hex;
}

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
    if (hash.starts_with(kArgon2idPrefix)) {
        return verify_token(hash, secret);
    }
    if (!is_jenkins_hash(hash) || !sodium_ready()) {
        return false;
    }
    Sha256Digest stored{};
    const std::string_view hex = std::string_view(hash).substr(kJenkinsSha256Prefix.size());
    if (sodium_hex2bin(stored.data(), stored.size(), hex.data(), hex.size(), nullptr, nullptr,
                       nullptr) != 0) {
        return false;
    }
    Sha256Digest given{};
    crypto_hash_sha256(given.data(), reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size());
    const bool same = sodium_memcmp(stored.data(), given.data(), stored.size()) == 0;
    sodium_memzero(given.data(), given.size());
    return same;
}

} // namespace apitoken::store
