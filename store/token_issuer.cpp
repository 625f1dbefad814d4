#include "store/token_issuer.hpp"

#include "store/store_error.hpp"
#include "store/token_format.hpp"
#include "store/token_store.hpp"

namespace apitoken::store {

IssuedToken prepare_token(const TokenRequest& request, const HashParams& params, TimePoint now) {
    GeneratedToken token = generate_token();
    TokenRecord record;
    record.id = token.id;
    record.user = request.user;
    record.uid = request.uid;
    record.name = request.name;
    record.created = now;
    record.expires = request.expires;
    record.services = request.services;
    record.description = request.description;
    record.sources = request.sources;
    record.max_uses = request.max_uses;
    record.hosts = request.hosts;
    record.origin = kOriginApitoken;
    record.created_by = request.created_by;
    record.rotated_from = request.rotated_from;
    record.hash = hash_token(token.text.view(), params);
    return {std::move(record), std::move(token.text)};
}

IssuedToken issue_token(TokenStore& store, const TokenRequest& request, const HashParams& params,
                        TimePoint now) {
    // Three collisions in a row on 48 random bits mean a broken RNG, not bad
    // luck; better to fail than to loop.
    constexpr int kAttempts = 3;
    for (int attempt = 1;; ++attempt) {
        IssuedToken issued = prepare_token(request, params, now);
        try {
            store.create(issued.record);
            return issued;
        } catch (const StoreError& error) {
            if (error.code() != StoreErrc::DuplicateId || attempt == kAttempts) {
                throw;
            }
        }
    }
}

} // namespace apitoken::store
