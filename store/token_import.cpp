#include "store/lmdb_handle.hpp"
#include "store/name_rules.hpp"
#include "store/store_impl.hpp"
#include "store/token_store.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

// Importing tokens from another system (Jenkins): one transaction per
// account, each foreign token at most once, ever.
namespace apitoken::store {
namespace {

using lmdb::Txn;

constexpr std::size_t kFallbackIdChars = 8;

// Where the table of imported tokens keeps a foreign token.
std::string imported_key(const TokenRecord& record) {
    return record.origin + ':' + record.origin_id;
}

// The first of "name", "name (2)", "name (3)"... that is a valid name not in
// `taken`; a foreign name we cannot keep becomes origin-<id prefix>.
std::string unique_name(const TokenRecord& record, const std::set<std::string>& taken) {
    std::string base = record.name;
    if (!token_name_problem(base).empty()) {
        base = record.origin + "-" + record.origin_id.substr(0, kFallbackIdChars);
    }
    std::string name = base;
    for (std::size_t n = 2; taken.contains(name) || !token_name_problem(name).empty(); ++n) {
        // One of the first taken.size() + 2 suffixes is free, unless even
        // the short name is no name (an origin id we cannot show).
        if (n > taken.size() + 2) {
            throw StoreError(StoreErrc::InvalidArgument,
                             "an imported token's name and origin id make no valid name");
        }
        name = base + " (" + std::to_string(n) + ")";
        if (!token_name_problem(name).empty()) {
            // Too long with the suffix: start again from the short name.
            base = record.origin + "-" + record.origin_id.substr(0, kFallbackIdChars);
            name = base + " (" + std::to_string(n) + ")";
        }
    }
    return name;
}

// Thrown to end a dry run's transaction without committing it.
struct DryRunDone {
    std::vector<ImportOutcome> outcomes;
};

} // namespace

std::vector<ImportOutcome> TokenStore::import_tokens(std::span<const TokenRecord> records,
                                                     bool dry_run) {
    const auto run = [&](Txn& txn) {
        std::vector<ImportOutcome> outcomes;
        std::set<std::string> taken; // the account's names (one account per call)
        bool names_read = false;
        for (const auto& record : records) {
            if (record.origin_id.empty()) {
                throw StoreError(StoreErrc::InvalidArgument,
                                 "an imported token needs its origin id");
            }
            if (record.user != records.front().user || record.uid != records.front().uid) {
                throw StoreError(StoreErrc::InvalidArgument,
                                 "one import is for the tokens of one account");
            }
            const std::string key = imported_key(record);
            if (const auto before = txn.find(impl_->tables.imported, key)) {
                const auto id = TokenId::from_bytes(*before);
                const auto existing = id ? impl_->read(txn, *id) : std::nullopt;
                outcomes.push_back(
                    {false, id.value_or(TokenId()), existing ? existing->name : std::string()});
                continue;
            }
            if (!names_read) {
                for (const auto& mine :
                     impl_->account_tokens(txn, record.user, record.uid, {}).live) {
                    taken.insert(mine.name);
                }
                names_read = true;
            }
            TokenRecord stored = record;
            stored.name = unique_name(record, taken);
            impl_->insert(txn, stored);
            txn.put(impl_->tables.imported, key, stored.id.key());
            taken.insert(stored.name);
            outcomes.push_back({true, stored.id, stored.name});
        }
        if (dry_run) {
            throw DryRunDone{std::move(outcomes)};
        }
        return outcomes;
    };
    try {
        return impl_->published_write(run);
    } catch (DryRunDone& done) {
        return std::move(done.outcomes);
    }
}

} // namespace apitoken::store
