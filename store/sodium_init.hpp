#pragma once

namespace apitoken::store {

// Initializes libsodium once per process (thread-safe, idempotent) and tells
// whether it is usable. Every entry point of the store that uses libsodium
// calls one of these, so callers need not.
[[nodiscard]] bool sodium_ready() noexcept;

// Same, but throws std::runtime_error when libsodium cannot initialize.
void ensure_sodium_initialized();

} // namespace apitoken::store
