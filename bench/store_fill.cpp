#include "bench/store_fill.hpp"

#include "store/token_record.hpp"
#include "store/token_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <unordered_set>
#include <vector>

namespace apitoken::bench {
namespace {

using store::TokenId;
using store::TokenRecord;

// Ten tokens per made-up user: more than most users have, so the user index
// does real work during the fill.
constexpr std::size_t kTokensPerUser = 10;
// One write transaction per chunk: LMDB fsyncs once per commit.
constexpr std::size_t kFillChunk = 10'000;
constexpr uid_t kFirstMadeUpUid = 100'000;

std::uint64_t id_number(const TokenId& id) {
    std::uint64_t value = 0;
    for (const auto byte : id.bytes()) {
        value = (value << 8U) | byte;
    }
    return value;
}

// `count` distinct random ids, `first` first.
std::vector<TokenId> distinct_random_ids(std::size_t count, const TokenId& first) {
    std::vector<TokenId> ids{first};
    ids.reserve(count);
    std::unordered_set<std::uint64_t> seen{id_number(first)};
    seen.reserve(count);
    while (ids.size() < count) {
        const TokenId id = TokenId::random();
        if (seen.insert(id_number(id)).second) {
            ids.push_back(id);
        }
    }
    return ids;
}

std::string made_up_user(std::size_t index) {
    const std::string digits = std::to_string(index);
    return "u" + std::string(digits.size() < 7 ? 7 - digits.size() : 0, '0') + digits;
}

// Record 0 is the real token; the others belong to made-up users, who never
// authenticate (the daemon would not find them), but fill the same tables.
TokenRecord make_record(std::size_t index, const TokenId& id, const RealToken& real,
                        const std::string& hash, store::TimePoint now) {
    TokenRecord record;
    record.id = id;
    record.created = now;
    record.hash = hash;
    if (index == 0) {
        record.user = real.user;
        record.uid = real.uid;
        record.name = "bench";
        return record;
    }
    const std::size_t user_index = index / kTokensPerUser;
    record.user = made_up_user(user_index);
    record.uid = static_cast<uid_t>(kFirstMadeUpUid + user_index);
    record.name = "token-" + std::to_string(index % kTokensPerUser);
    return record;
}

void insert_in_chunks(store::TokenStore& store, const std::vector<TokenId>& ids,
                      const RealToken& real, const std::string& hash) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    std::vector<TokenRecord> chunk;
    chunk.reserve(kFillChunk);
    for (std::size_t begin = 0; begin < ids.size(); begin += kFillChunk) {
        const std::size_t end = std::min(begin + kFillChunk, ids.size());
        chunk.clear();
        for (std::size_t i = begin; i < end; ++i) {
            chunk.push_back(make_record(i, ids[i], real, hash, now));
        }
        store.create_batch(chunk);
    }
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

store::StoreOptions fill_options(const std::filesystem::path& state_dir) {
    store::StoreOptions options;
    options.state_dir = state_dir;
    options.max_tokens_per_user = kTokensPerUser;
    options.max_map_size = std::size_t{8} << 30U;
    return options;
}

} // namespace

FillReport fill_state_dir(const std::filesystem::path& state_dir, std::size_t count,
                          const RealToken& real, const store::HashParams& params,
                          uid_t daemon_uid) {
    empty_and_own(state_dir);
    const std::string hash = store::hash_token(real.token.text.view(), params);
    const auto ids = distinct_random_ids(count, real.token.id);
    FillReport report{count, 0, 0};
    const auto start = std::chrono::steady_clock::now();
    {
        store::TokenStore store(fill_options(state_dir));
        insert_in_chunks(store, ids, real, hash);
    } // closed, so its lock is released before the daemon takes it
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.data_bytes = std::filesystem::file_size(state_dir / "data.mdb");
    hand_over(state_dir, daemon_uid);
    return report;
}

} // namespace apitoken::bench
