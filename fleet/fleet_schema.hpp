#pragma once

#include "fleet/pg_connection.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace apitoken::fleet {

// The version of the schema apitoken_fleet this build creates and expects.
inline constexpr std::uint32_t kFleetSchemaVersion = 1;

// The name of the notification channel a change is announced on (payload:
// its sequence number).
inline constexpr const char* kChangeChannel = "apitoken_changes";

// The database's schema is not one this build can use (newer, or changed
// behind our back): nothing is written, the replica stays as it is.
class FleetSchemaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Makes sure the schema exists at our version: creates it (in one
// transaction, under an advisory lock, so that hosts starting together
// do not race) when it is missing, refuses a newer one, and checks that
// the tables and functions we use are there. Needs the rights to create it
// the first time only (the owner role); afterwards hosts need only theirs.
// Throws FleetSchemaError, or PgError when the database cannot be reached.
void ensure_fleet_schema(PgConnection& pg);

} // namespace apitoken::fleet
