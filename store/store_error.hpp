#pragma once

#include <stdexcept>
#include <string>

namespace apitoken::store {

// Why a store operation failed. Each edge (bus method, CLI, tests) maps these
// to its own vocabulary; the message is for humans and names path and cause.
enum class StoreErrc {
    StateDirUnusable, // missing parent, not a directory, wrong owner, no access
    InUse,            // another process holds the state directory
    Corrupt,          // a file or record that is not what this build wrote
    SchemaMismatch,   // a store of another schema version
    Full,             // the map reached its configured maximum, or the disk is full
    DuplicateName,    // the user already has a token of that name
    DuplicateId,      // a token with this id exists (caller draws a new id)
    TooManyTokens,    // the user reached the configured maximum
    InvalidArgument,  // a name, user or service that the rules refuse
    NotFound,         // no such token (for this user)
    Io,               // any other system or LMDB failure
    FleetUnreachable, // fleet mode: the shared database cannot be reached
    FleetRefused,     // fleet mode: the shared database refused the change
};

class StoreError : public std::runtime_error {
public:
    StoreError(StoreErrc code, const std::string& message)
        : std::runtime_error(message), code_(code) {}

    [[nodiscard]] StoreErrc code() const noexcept { return code_; }

private:
    StoreErrc code_;
};

} // namespace apitoken::store
