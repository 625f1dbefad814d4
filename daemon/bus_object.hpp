#pragma once

#include "daemon/audit_log.hpp"
#include "daemon/caller_credentials.hpp"
#include "daemon/token_service.hpp"
#include "ipc/sd_handles.hpp"

namespace apitoken::daemon {

class FleetReplica;

// io.apitoken1.Manager on /io/apitoken1: reads arguments, asks the bus who
// the caller is, hands the call to the TokenService, and turns its answer
// into a D-Bus reply. The only place where errors become D-Bus errors.
class BusObject {
public:
    // `fleet`: fleet mode's replica, for the FleetState property (nullptr:
    // single-host mode).
    BusObject(sd_bus* bus, TokenService& service, const AuditLog& log,
              const FleetReplica* fleet = nullptr);
    BusObject(const BusObject&) = delete;
    BusObject& operator=(const BusObject&) = delete;
    BusObject(BusObject&&) = delete;
    BusObject& operator=(BusObject&&) = delete;
    ~BusObject();

    // Serves the same object on another connection (a direct one); the
    // slot unregisters it.
    [[nodiscard]] ipc::SlotPtr serve(sd_bus* connection);

    [[nodiscard]] TokenService& service() const noexcept { return service_; }
    [[nodiscard]] const AuditLog& log() const noexcept { return log_; }
    [[nodiscard]] CallerQueries& callers() noexcept { return callers_; }
    [[nodiscard]] const FleetReplica* fleet() const noexcept { return fleet_; }

private:
    TokenService& service_;
    const AuditLog& log_;
    const FleetReplica* fleet_;
    ipc::SlotPtr slot_;
    // Declared last, so destroyed first: the questions in flight (and the
    // calls they hold) go before the object they answer for.
    CallerQueries callers_;
};

} // namespace apitoken::daemon
