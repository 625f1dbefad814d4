#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace apitoken::store {

// Small secrets (a token is 56 bytes) in fixed slots of one region that
// libsodium allocated once: locked out of swap, excluded from core dumps and
// fenced by guard pages, like a sodium_malloc of its own, but without the
// five system calls and the TLB shootdown that each sodium_malloc/sodium_free
// pair costs. Those were a tenth of an authentication's latency (see
// bench/auth_bench). Slots are wiped when returned. Thread-safe: the daemon
// takes slots on its bus thread and returns them on hashing workers.
class SecretSlab {
public:
    static constexpr std::size_t kSlotSize = 64;
    static constexpr std::size_t kSlotCount = 1024;

    // The process's slab, made on first use.
    static SecretSlab& instance();

    SecretSlab(const SecretSlab&) = delete;
    SecretSlab& operator=(const SecretSlab&) = delete;
    SecretSlab(SecretSlab&&) = delete;
    SecretSlab& operator=(SecretSlab&&) = delete;
    ~SecretSlab();

    // A zeroed slot of kSlotSize bytes, or nullptr when all are taken (the
    // caller falls back to sodium_malloc).
    [[nodiscard]] char* take() noexcept;
    // Wipes `slot` and makes it available again.
    void give_back(char* slot) noexcept;
    [[nodiscard]] bool owns(const char* p) const noexcept;
    [[nodiscard]] std::size_t available() const;

private:
    SecretSlab();

    char* region_ = nullptr;
    mutable std::mutex mutex_;
    std::vector<char*> free_; // guarded by mutex_
};

} // namespace apitoken::store
