// Shows the token store at work: creates a token for a user in the given
// state directory, authenticates with it, with a mistyped copy and with a
// wrong secret, revokes it and shows that it no longer works.
#include "store/store_error.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "store/token_issuer.hpp"
#include "store/token_store.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

namespace {

using namespace apitoken::store;

// The same steps the daemon takes: parse (no store access for junk), look up
// by id, check the user and the hash.
const char* check(const TokenStore& store, const std::string& user, std::string_view token) {
    const auto id = parse_token(token);
    if (!id) {
        return "refused (malformed, rejected before any store access)";
    }
    const auto record = store.find(*id);
    if (!record || record->user != user) {
        return "refused (no such token)";
    }
    return verify_token(record->hash, token) ? "accepted" : "refused (wrong secret)";
}

int run(const std::string& state_dir, const std::string& user) {
    StoreOptions options;
    options.state_dir = state_dir;
    TokenStore store(options);
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const std::string name = "demo-" + std::to_string(::getpid());

    IssuedToken issued =
        issue_token(store, {user, ::getuid(), name, std::nullopt, {}}, HashParams::defaults(), now);
    const std::string id = issued.record.id.hex();
    std::cout << "created token " << id << " (\"" << name << "\") for " << user << " in "
              << state_dir << "\n  stored only as: " << issued.record.hash.substr(0, 30) << "...\n";

    std::cout << "  authenticate with the token:        " << check(store, user, issued.text.view())
              << '\n';
    SecretBuffer typo(issued.text.view());
    typo.data()[20] = typo.data()[20] == 'a' ? 'b' : 'a';
    std::cout << "  with one character mistyped:        " << check(store, user, typo.view())
              << '\n';
    const GeneratedToken other_secret = generate_token(issued.record.id);
    std::cout << "  same id, another secret:            "
              << check(store, user, other_secret.text.view()) << '\n';

    store.revoke(user, issued.record.id);
    std::cout << "revoked token " << id << '\n'
              << "  authenticate with the token again:  " << check(store, user, issued.text.view())
              << '\n'
              << "tokens left in the store: " << store.count() << '\n';
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: apitoken-store-demo STATE_DIR USER\n";
        return 2;
    }
    try {
        return run(argv[1], argv[2]);
    } catch (const std::exception& error) {
        std::cerr << "apitoken-store-demo: " << error.what() << '\n';
        return 1;
    }
}
