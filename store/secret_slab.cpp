#include "store/secret_slab.hpp"

#include "store/sodium_init.hpp"

#include <sodium.h>

#include <functional>
#include <new>

namespace apitoken::store {

SecretSlab& SecretSlab::instance() {
    // Never destroyed: SecretBuffers in other static objects may be released
    // after any destructor of this one would have run.
    static auto* const slab = new SecretSlab(); // NOLINT(cppcoreguidelines-owning-memory)
    return *slab;
}

SecretSlab::SecretSlab() {
    ensure_sodium_initialized();
    region_ = static_cast<char*>(sodium_allocarray(kSlotCount, kSlotSize));
    if (region_ == nullptr) {
        throw std::bad_alloc();
    }
    sodium_memzero(region_, kSlotCount * kSlotSize);
    free_.reserve(kSlotCount);
    // Handed out from the back: the first slot first.
    for (std::size_t i = kSlotCount; i > 0; --i) {
        free_.push_back(region_ + ((i - 1) * kSlotSize));
    }
}

SecretSlab::~SecretSlab() {
    sodium_free(region_);
}

char* SecretSlab::take() noexcept {
    const std::lock_guard lock(mutex_);
    if (free_.empty()) {
        return nullptr;
    }
    char* slot = free_.back();
    free_.pop_back();
    return slot;
}

void SecretSlab::give_back(char* slot) noexcept {
    sodium_memzero(slot, kSlotSize);
    const std::lock_guard lock(mutex_);
    // Cannot throw: capacity for every slot was reserved up front.
    free_.push_back(slot);
}

bool SecretSlab::owns(const char* p) const noexcept {
    const std::less_equal<> not_after; // total order, unlike <= on unrelated pointers
    const std::less<> before;
    return not_after(region_, p) && before(p, region_ + (kSlotCount * kSlotSize));
}

std::size_t SecretSlab::available() const {
    const std::lock_guard lock(mutex_);
    return free_.size();
}

} // namespace apitoken::store
