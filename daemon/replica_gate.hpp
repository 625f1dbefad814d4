#pragma once

#include "store/token_record.hpp"

#include <optional>
#include <string>

namespace apitoken::daemon {

// Whether this host's tokens may be trusted now. Fleet mode's replica
// (fleet_replica.hpp) says no once it has been cut off from the fleet
// database for longer than fleet_offline_grace; single-host mode has no gate.
class ReplicaGate {
public:
    ReplicaGate() = default;
    ReplicaGate(const ReplicaGate&) = delete;
    ReplicaGate& operator=(const ReplicaGate&) = delete;
    ReplicaGate(ReplicaGate&&) = delete;
    ReplicaGate& operator=(ReplicaGate&&) = delete;
    virtual ~ReplicaGate() = default;

    // Why token logins must fail now (for the log), or nullopt.
    [[nodiscard]] virtual std::optional<std::string> refusal(store::TimePoint now) const = 0;
};

} // namespace apitoken::daemon
