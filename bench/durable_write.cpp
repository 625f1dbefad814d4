#include "bench/durable_write.hpp"

#include "bench/bench_world.hpp"
#include "store/token_hash.hpp"
#include "store/token_record.hpp"

#include <chrono>
#include <exception>

namespace apitoken::bench {
namespace {

store::TokenStore open_store(const std::filesystem::path& state_dir) {
    std::filesystem::create_directory(state_dir);
    return store::TokenStore(fill_store_options(state_dir));
}

} // namespace

DurableWrite::DurableWrite() : store_(open_store(dir_ / "state")) {
    insert_tokens(
        store_, {token_.token.id},
        {{&token_, store::hash_token(token_.token.text.view(), store::HashParams::defaults())}});
}

int DurableWrite::consume(const std::string& rhost) noexcept {
    try {
        const store::UsageEvent use{
            token_.token.id,
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()),
            kApitokenService, rhost};
        const std::lock_guard lock(mutex_);
        return store_.consume_use(use) == store::UseVerdict::Counted ? 0 : 1;
    } catch (const std::exception&) {
        return 1;
    }
}

} // namespace apitoken::bench
