// The daemon's method handlers behind the bus edge: TokenService, which every
// io.apitoken1 method calls once sd-bus has read its arguments. Drives it with
// arbitrary callers (uid, groups) and arguments of any size and bytes (user,
// token, service, rhost, names, service lists), against a real LMDB store,
// with the hashing answered in any order relative to the caller's
// credentials. Properties, beyond "no sanitizer report":
//  - every authentication is answered exactly once;
//  - no call ends in an exception the bus edge would report as an internal
//    error;
//  - a token authenticates only when it was created and not revoked since,
//    for its owner, by a caller allowed to ask for that owner.
#include "daemon/audit_log.hpp"
#include "daemon/config.hpp"
#include "daemon/hash_runner.hpp"
#include "daemon/token_service.hpp"
#include "store/token_store.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/support/stepped_pipeline.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace apitoken::fuzz {
namespace {

using daemon::Caller;
using daemon::Failure;

// Users that exist on any Debian system, with their uids, so that lookups,
// the authorization table and the "uid unchanged" check do real work.
struct KnownUser {
    const char* name;
    uid_t uid;
};
constexpr KnownUser kUsers[] = {{"root", 0}, {"daemon", 1}, {"bin", 2}, {"nobody", 65534}};
// The groups the config names (gids of "daemon" and "bin" on Debian).
constexpr gid_t kAuthGid = 1;
constexpr gid_t kAdminGid = 2;

daemon::Config fuzz_config() {
    daemon::Config config;
    // libsodium's minimum cost: the fuzzer is after logic, not Argon2.
    config.hash = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    config.max_tokens_per_user = 8;
    config.auth_group = "daemon";
    config.admin_group = "bin";
    config.throttle_max_failures = 3;
    config.max_store_size = std::size_t{64} << 20U;
    return config;
}

std::string make_state_dir() {
    char pattern[] = "/tmp/apitoken-fuzz-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
        property_failed("cannot make a state directory");
    }
    return std::string(pattern) + "/state";
}

struct World {
    daemon::Config config = fuzz_config();
    std::FILE* null_sink = std::fopen("/dev/null", "we");
    daemon::AuditLog log{false, null_sink};
    store::TokenStore store{[] {
        store::StoreOptions options;
        options.state_dir = make_state_dir();
        options.max_tokens_per_user = 8;
        options.initial_map_size = std::size_t{1} << 20U;
        options.max_map_size = std::size_t{64} << 20U;
        return options;
    }()};
    testing::SteppedHashRunner runner;
    daemon::TokenService service{config, store, log, runner};
};

World& world() {
    static auto* const instance = new World(); // NOLINT(cppcoreguidelines-owning-memory)
    return *instance;
}

// A token this input created, and what the model knows about it.
struct Issued {
    std::string user;
    uid_t uid = 0;
    std::string id;
    std::string text;
    bool revoked = false;
};

class Session {
public:
    explicit Session(FuzzedDataProvider& input) : in_(input) {}

    void run() {
        while (in_.remaining_bytes() > 0) {
            step();
        }
        world().runner.run_all();
        check(answers_expected_ == answers_seen_, "an authentication was not answered");
        // Tokens of this input go, so that the store does not fill up.
        for (const auto& user : kUsers) {
            call([&] {
                static_cast<void>(
                    world().service.management().revoke_all_tokens(root(), user.name));
            });
        }
    }

private:
    static Caller root() { return Caller{0, {}, 1}; }

    // Mostly the users the table is about; sometimes any uid at all.
    Caller any_caller() {
        Caller caller;
        const auto pick = in_.ConsumeIntegralInRange<std::size_t>(0, 4);
        caller.uid = pick < 4 ? kUsers[pick].uid : in_.ConsumeIntegral<uid_t>();
        if (in_.ConsumeBool()) {
            caller.groups.push_back(kAuthGid);
        }
        if (in_.ConsumeBool()) {
            caller.groups.push_back(kAdminGid);
        }
        return caller;
    }

    std::string any_text() { return in_.ConsumeRandomLengthString(); }

    std::string any_user() {
        switch (in_.ConsumeIntegralInRange(0, 2)) {
        case 0: return kUsers[in_.ConsumeIntegralInRange<std::size_t>(0, 3)].name;
        case 1: return {};
        default: return any_text();
        }
    }

    // A token's text: one this input made (maybe altered), or anything.
    std::string any_token() {
        if (issued_.empty() || in_.ConsumeIntegralInRange(0, 3) == 0) {
            return any_text();
        }
        std::string text =
            issued_[in_.ConsumeIntegralInRange<std::size_t>(0, issued_.size() - 1)].text;
        if (in_.ConsumeBool() && !text.empty()) {
            text[in_.ConsumeIntegralInRange<std::size_t>(0, text.size() - 1)] =
                in_.ConsumeIntegral<char>();
        }
        return text;
    }

    std::string any_id() {
        if (issued_.empty() || in_.ConsumeBool()) {
            return any_text();
        }
        return issued_[in_.ConsumeIntegralInRange<std::size_t>(0, issued_.size() - 1)].id;
    }

    // Runs a synchronous method the way the bus edge does.
    template <typename Body>
    void call(Body&& body) {
        try {
            body();
        } catch (...) {
            expect_refusal(daemon::failure_of_current_exception(world().log));
        }
    }

    static void expect_refusal(const Failure& failure) {
        check(failure.message != "internal error", "a method ended in an unexpected exception");
    }

    static bool may_authenticate(const Caller& caller, const Issued& token) {
        return caller.uid == 0 || caller.uid == token.uid || caller.in_group(kAuthGid);
    }

    void step() {
        auto& service = world().service.management();
        switch (in_.ConsumeIntegralInRange(0, 11)) {
        case 0: authenticate(); break;
        case 1: create(); break;
        case 2: {
            const Caller caller = any_caller();
            call([&] { static_cast<void>(service.list_tokens(caller, any_user())); });
            break;
        }
        case 3: revoke(); break;
        case 4: {
            const Caller caller = any_caller();
            const std::string user = any_user();
            call([&] {
                static_cast<void>(service.revoke_all_tokens(caller, user));
                for (auto& token : issued_) {
                    const bool theirs = user.empty() ? token.uid == caller.uid : token.user == user;
                    token.revoked = token.revoked || theirs;
                }
            });
            break;
        }
        case 5: {
            const Caller caller = any_caller();
            call([&] { service.rename_token(caller, any_user(), any_id(), any_name()); });
            break;
        }
        case 6: world().runner.run_one(); break;
        case 7: world().runner.refuse_next = true; break;
        case 8: look_up(); break;
        case 9: revoke_leaked(); break;
        case 10: import_jenkins(); break;
        default: {
            const Caller caller = any_caller();
            call([&] { static_cast<void>(service.token_count(caller)); });
            break;
        }
        }
    }

    // Valid more often than chance would make it, so that tokens exist.
    std::int64_t any_expiry() {
        switch (in_.ConsumeIntegralInRange(0, 3)) {
        case 0: return ipc::kExpiresDefault;
        case 1: return ipc::kExpiresNever;
        case 2: return std::time(nullptr) + in_.ConsumeIntegralInRange<std::int64_t>(-10, 1 << 30);
        default: return in_.ConsumeIntegral<std::int64_t>();
        }
    }

    std::string any_name() {
        return in_.ConsumeBool() ? "t" + std::to_string(in_.ConsumeIntegralInRange(0, 9))
                                 : any_text();
    }

    void create() {
        const Caller caller = any_caller();
        daemon::CreateRequest request{any_user(), any_name(), any_expiry(), {}};
        const auto services = in_.ConsumeIntegralInRange(0, 40);
        for (int i = 0; i < services; ++i) {
            request.services.push_back(in_.ConsumeBool() ? "sshd" : any_text());
        }
        call([&] {
            world().service.management().create_token(
                caller, request,
                [this](const std::optional<Failure>& failure, const store::IssuedToken* token) {
                    if (failure || token == nullptr) {
                        expect_refusal(failure.value_or(Failure{}));
                        return;
                    }
                    issued_.push_back({token->record.user, token->record.uid,
                                       token->record.id.hex(), std::string(token->text.view())});
                });
        });
    }

    void revoke() {
        const Caller caller = any_caller();
        const std::string user = any_user();
        const std::string id = any_id();
        call([&] {
            world().service.management().revoke_token(caller, user, id);
            for (auto& token : issued_) {
                token.revoked = token.revoked || token.id == id;
            }
        });
    }

    // LookupTokens: a caller who is not root or an admin learns the owner
    // and name only of tokens made for their own uid.
    void look_up() {
        const Caller caller = any_caller();
        std::vector<std::string> ids;
        const auto count = in_.ConsumeIntegralInRange(0, 8);
        ids.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            ids.push_back(any_id());
        }
        call([&] {
            const bool admin = caller.uid == 0 || caller.in_group(kAdminGid);
            for (const auto& answer : world().service.leaks().look_up(caller, ids)) {
                if (!answer.visible || admin) {
                    continue;
                }
                bool own = false;
                for (const auto& issued : issued_) {
                    own = own || (issued.id == answer.id && issued.uid == caller.uid);
                }
                check(own, "a lookup showed another user's token to a plain caller");
            }
        });
    }

    // RevokeLeakedTokens: only a token whose whole text was presented goes.
    void revoke_leaked() {
        const Caller caller = any_caller();
        std::vector<store::SecretBuffer> tokens;
        std::vector<std::string> texts;
        const auto count = in_.ConsumeIntegralInRange(0, 3);
        for (int i = 0; i < count; ++i) {
            texts.push_back(any_token());
            tokens.emplace_back(texts.back());
        }
        call([&] {
            ++answers_expected_; // taken back when the call is refused at once
            try {
                revoke_leaked_as(caller, std::move(tokens), texts);
            } catch (...) {
                --answers_expected_;
                throw;
            }
        });
    }

    void revoke_leaked_as(const Caller& caller, std::vector<store::SecretBuffer> tokens,
                          const std::vector<std::string>& texts) {
        world().service.leaks().revoke(
            caller, std::move(tokens),
            [this, texts](const std::optional<Failure>& failure,
                          const std::vector<std::string>& ids) {
                ++answers_seen_;
                if (failure) {
                    expect_refusal(*failure);
                }
                for (const auto& id : ids) {
                    bool presented = false;
                    for (auto& issued : issued_) {
                        const bool whole = issued.id == id && std::find(texts.begin(), texts.end(),
                                                                        issued.text) != texts.end();
                        issued.revoked = issued.revoked || whole;
                        presented = presented || whole;
                    }
                    check(presented, "a token was revoked without its whole text");
                }
            });
    }

    // ImportTokens: only root and admins import; an imported token then
    // authenticates (and is checked like the others) as "11" + its hex and
    // as the hex alone. Each import has a secret of its own.
    void import_jenkins() {
        const Caller caller = any_caller();
        const std::string user = any_user();
        const bool dry_run = in_.ConsumeBool();
        std::vector<daemon::ForeignToken> tokens;
        std::vector<std::string> secrets;
        const auto count = in_.ConsumeIntegralInRange(0, 3);
        for (int i = 0; i < count; ++i) {
            char secret[33];
            static_cast<void>(
                std::snprintf(secret, sizeof secret, "%016llx%016x", 0x5eedULL, ++imports_));
            secrets.emplace_back(secret);
            daemon::ForeignToken token;
            token.origin_id = in_.ConsumeBool()
                                  ? "uuid-" + std::to_string(in_.ConsumeIntegralInRange(0, 5))
                                  : any_text();
            token.name = any_name();
            token.jenkins_hash =
                in_.ConsumeIntegralInRange(0, 7) == 0 ? any_text() : sha256_hex(secrets.back());
            token.created = in_.ConsumeIntegral<std::int64_t>() % 4'000'000'000;
            token.expires =
                in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<std::int64_t>() % 4'000'000'000;
            token.use_count = in_.ConsumeIntegral<std::uint64_t>();
            tokens.push_back(std::move(token));
        }
        call([&] {
            const auto outcomes =
                world().service.imports().import_tokens(caller, user, tokens, dry_run);
            check(caller.uid == 0 || caller.in_group(kAdminGid), "a plain caller imported tokens");
            check(outcomes.size() == tokens.size(), "an import answered for other tokens");
            // Only the table's users are followed (any other name that NSS
            // knows could be imported for too).
            const std::string owner = user.empty() ? name_of(caller.uid) : user;
            const KnownUser* known = nullptr;
            for (const auto& candidate : kUsers) {
                known = candidate.name == owner ? &candidate : known;
            }
            for (std::size_t i = 0; i < outcomes.size() && !dry_run && known != nullptr; ++i) {
                if (outcomes[i].imported && tokens[i].jenkins_hash == sha256_hex(secrets[i])) {
                    issued_.push_back({owner, known->uid, outcomes[i].id.hex(), "11" + secrets[i]});
                    issued_.push_back({owner, known->uid, outcomes[i].id.hex(), secrets[i]});
                }
            }
        });
    }

    static std::string sha256_hex(const std::string& text) {
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()),
                           text.size());
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        return hex;
    }

    static std::string name_of(uid_t uid) {
        for (const auto& known : kUsers) {
            if (known.uid == uid) {
                return known.name;
            }
        }
        return {};
    }

    void authenticate() {
        const Caller caller = any_caller();
        const std::string token = any_token();
        const std::string user = any_user();
        const std::string service = in_.ConsumeBool() ? "sshd" : any_text();
        daemon::AuthRequest request{user, store::SecretBuffer(token), service, any_text(), {}, -1};
        ++answers_expected_;
        auto reply = [this, caller, token, user](const std::optional<Failure>& failure,
                                                 const std::string& id) {
            ++answers_seen_;
            if (failure) {
                return expect_refusal(*failure);
            }
            const Issued* match = nullptr;
            for (const auto& issued : issued_) {
                match = issued.text == token ? &issued : match;
            }
            check(match != nullptr, "a token this input never created authenticated");
            check(!match->revoked, "a revoked token authenticated");
            check(match->id == id, "the answer names another token");
            check(user.empty() ? match->uid == caller.uid : match->user == user,
                  "a token authenticated for a user who does not own it");
            check(may_authenticate(caller, *match), "a caller authenticated for someone else");
        };
        testing::SteppedCallerLookup lookup;
        world().service.authentication().authenticate(std::move(request), lookup, reply);
        check(lookup.times_asked() == 1, "the caller was not asked for exactly once");
        if (in_.ConsumeBool()) {
            world().runner.run_one(); // the hash before the credentials
        }
        if (in_.ConsumeIntegralInRange(0, 15) == 0) {
            lookup.answer(Failure{ipc::Error::AccessDenied, "unknown"});
        } else {
            lookup.answer(caller);
        }
    }

    FuzzedDataProvider& in_;
    std::vector<Issued> issued_;
    unsigned imports_ = 0;
    std::size_t answers_expected_ = 0;
    std::size_t answers_seen_ = 0;
};

} // namespace
} // namespace apitoken::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    apitoken::fuzz::Session(input).run();
    return 0;
}
