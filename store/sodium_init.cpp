#include "store/sodium_init.hpp"

#include <sodium.h>

#include <stdexcept>

namespace apitoken::store {

bool sodium_ready() noexcept {
    // sodium_init() is itself thread-safe; the static only avoids repeating it.
    static const bool initialized = sodium_init() >= 0;
    return initialized;
}

void ensure_sodium_initialized() {
    if (!sodium_ready()) {
        throw std::runtime_error("libsodium could not be initialized (no source of randomness?)");
    }
}

} // namespace apitoken::store
