#include "bench/store_fill.hpp"

#include "store/token_record.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <unordered_set>
#include <vector>

namespace apitoken::bench {
namespace {

using store::TokenId;
using store::TokenRecord;

constexpr uid_t kFirstMadeUpUid = 100'000;

std::uint64_t id_number(const TokenId& id) {
    std::uint64_t value = 0;
    for (const auto byte : id.bytes()) {
        value = (value << 8U) | byte;
    }
    return value;
}

std::string made_up_user(std::size_t index) {
    const std::string digits = std::to_string(index);
    return "u" + std::string(digits.size() < 7 ? 7 - digits.size() : 0, '0') + digits;
}

// The first records are the real tokens ("bench", "bench-2", ...); the
// others belong to made-up users, who never authenticate (the daemon would
// not find them), but fill the same tables.
TokenRecord make_record(std::size_t index, const TokenId& id, const std::vector<RealRecord>& real,
                        store::TimePoint now) {
    TokenRecord record;
    record.id = id;
    record.created = now;
    if (index < real.size()) {
        const RealToken& token = *real[index].token;
        record.hash = real[index].hash;
        record.user = token.user;
        record.uid = token.uid;
        record.max_uses = token.max_uses;
        record.name = "bench";
        if (index != 0) {
            record.name += "-" + std::to_string(index + 1);
        }
        return record;
    }
    record.hash = real.front().hash;
    const std::size_t user_index = index / kTokensPerUser;
    record.user = made_up_user(user_index);
    record.uid = static_cast<uid_t>(kFirstMadeUpUid + user_index);
    record.name = "token-" + std::to_string(index % kTokensPerUser);
    return record;
}

void change_owner(const std::filesystem::path& path, uid_t uid) {
    if (::chown(path.c_str(), uid, uid) != 0) {
        throw std::system_error(errno, std::generic_category(), "chown " + path.string());
    }
}

// The store refuses a directory its process does not own: root fills it,
// then hands it (and every file in it) to the daemon's user.
void hand_over(const std::filesystem::path& state_dir, uid_t daemon_uid) {
    for (const auto& entry : std::filesystem::directory_iterator(state_dir)) {
        change_owner(entry.path(), daemon_uid);
    }
    change_owner(state_dir, daemon_uid);
}

void empty_and_own(const std::filesystem::path& state_dir) {
    std::filesystem::remove_all(state_dir);
    std::filesystem::create_directory(state_dir);
    change_owner(state_dir, ::geteuid());
}

} // namespace

std::vector<TokenId> distinct_random_ids(std::size_t count, const std::vector<TokenId>& first) {
    std::vector<TokenId> ids;
    ids.reserve(std::max(count, first.size()));
    std::unordered_set<std::uint64_t> seen;
    seen.reserve(count);
    for (const TokenId& id : first) {
        if (!seen.insert(id_number(id)).second) {
            throw std::logic_error("two real tokens share an id");
        }
        ids.push_back(id);
    }
    while (ids.size() < count) {
        const TokenId id = TokenId::random();
        if (seen.insert(id_number(id)).second) {
            ids.push_back(id);
        }
    }
    return ids;
}

store::StoreOptions fill_store_options(const std::filesystem::path& state_dir) {
    store::StoreOptions options;
    options.state_dir = state_dir;
    options.max_tokens_per_user = kTokensPerUser;
    options.max_map_size = std::size_t{8} << 30U;
    return options;
}

void insert_tokens(store::TokenStore& store, const std::vector<TokenId>& ids,
                   const std::vector<RealRecord>& real) {
    if (real.empty()) {
        throw std::logic_error("a store fill needs a real token (its hash fills every record)");
    }
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    std::vector<TokenRecord> chunk;
    chunk.reserve(kFillChunk);
    for (std::size_t begin = 0; begin < ids.size(); begin += kFillChunk) {
        const std::size_t end = std::min(begin + kFillChunk, ids.size());
        chunk.clear();
        for (std::size_t i = begin; i < end; ++i) {
            chunk.push_back(make_record(i, ids[i], real, now));
        }
        store.create_batch(chunk);
    }
}

FillReport fill_state_dir(const std::filesystem::path& state_dir, std::size_t count,
                          const std::vector<const RealToken*>& real,
                          const store::HashParams& params, uid_t daemon_uid) {
    empty_and_own(state_dir);
    std::vector<RealRecord> records;
    std::vector<TokenId> first;
    for (const RealToken* token : real) {
        records.push_back({token, store::hash_token(token->token.text.view(), params)});
        first.push_back(token->token.id);
    }
    const auto ids = distinct_random_ids(count, first);
    FillReport report{count, 0, 0};
    const auto start = std::chrono::steady_clock::now();
    {
        store::TokenStore store(fill_store_options(state_dir));
        insert_tokens(store, ids, records);
    } // closed, so its lock is released before the daemon takes it
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.data_bytes = std::filesystem::file_size(state_dir / "data.mdb");
    hand_over(state_dir, daemon_uid);
    return report;
}

} // namespace apitoken::bench
