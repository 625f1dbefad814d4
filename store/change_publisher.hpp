#pragma once

#include "store/token_record.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace apitoken::store {

// One token as a write left it: its record, or nullopt when it was deleted.
struct StoreChange {
    TokenId id;
    std::optional<TokenRecord> record{};
    // The fleet database's version of the token (the sequence number of its
    // last change): going out, the one this replica has (nullopt: a new
    // token), so that a host behind cannot overwrite a newer change; coming
    // in, and once published, the one it has now.
    std::optional<std::uint64_t> version{};

    [[nodiscard]] bool deletion() const noexcept { return !record.has_value(); }
};

// Where the store sends the changes of a write before it commits them, in
// fleet mode (fleet/fleet_publisher.hpp): the shared database, which must
// have them first. The store's own bookkeeping (usage, re-hashes, the
// "expires soon" mark, orphans of this host's users) is not sent.
class ChangePublisher {
public:
    ChangePublisher() = default;
    ChangePublisher(const ChangePublisher&) = delete;
    ChangePublisher& operator=(const ChangePublisher&) = delete;
    ChangePublisher(ChangePublisher&&) = delete;
    ChangePublisher& operator=(ChangePublisher&&) = delete;
    virtual ~ChangePublisher() = default;

    // True once the changes are committed there; false when it cannot be
    // reached (then the store commits deletions alone, queued for later,
    // and refuses anything else with FleetUnreachable). A refusal by the
    // database throws StoreError(FleetRefused).
    // It sets each upsert's new version.
    virtual bool publish(std::span<StoreChange> changes) = 0;
};

} // namespace apitoken::store
