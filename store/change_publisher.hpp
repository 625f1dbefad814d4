#pragma once

#include "store/token_record.hpp"

#include <optional>
#include <span>

namespace apitoken::store {

// One token as a write left it: its record, or nullopt when it was deleted.
struct StoreChange {
    TokenId id;
    std::optional<TokenRecord> record{};

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
    virtual bool publish(std::span<const StoreChange> changes) = 0;
};

} // namespace apitoken::store
