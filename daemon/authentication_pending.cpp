#include "daemon/authentication_pending.hpp"

#include "store/imported_hash.hpp"
#include "store/token_hash.hpp"

#include <string_view>
#include <vector>

namespace apitoken::daemon {

void Authenticator::Pending::verify() {
    if (jenkins) {
        return verify_imported();
    }
    matched = store::verify_token(hash, token.view());
    if (matched && record && store::needs_rehash(hash, params)) {
        rehashed = store::hash_token(token.view(), params);
    }
}

// Every imported token is compared, whichever matches: SHA-256 in constant
// time, Argon2id with one run for all of them (they share the account's
// salt: store/imported_hash.hpp), or the dummy when none is Argon2id yet,
// so that a guess costs one Argon2id run whatever the user has. On a
// match, the secret is hashed with Argon2id to replace what Jenkins kept.
void Authenticator::Pending::verify_imported() {
    const std::string_view secret = store::jenkins_secret(token.view());
    std::vector<std::string> hashes;
    hashes.reserve(imported.size());
    for (const auto& one : imported) {
        hashes.push_back(one.hash);
    }
    const store::ImportedMatch found = store::match_imported(hashes, secret);
    if (found.argon2_runs == 0) {
        static_cast<void>(store::verify_token(hash, secret));
    }
    imported_match = found.index;
    matched = found.index.has_value();
    if (matched) {
        const store::TokenRecord& found_record = imported[*found.index];
        if (store::imported_needs_rehash(found_record.hash, found_record.user, found_record.uid,
                                         params)) {
            rehashed = store::hash_imported(secret, found_record.user, found_record.uid, params);
        }
    }
}

} // namespace apitoken::daemon
