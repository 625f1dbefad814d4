#include "store/secret_buffer.hpp"

#include "store/secret_slab.hpp"
#include "store/sodium_init.hpp"

#include <sodium.h>

#include <algorithm>
#include <new>
#include <utility>

namespace apitoken::store {

SecretBuffer::SecretBuffer(std::size_t size) : size_(size) {
    ensure_sodium_initialized();
    // sodium_malloc(0) is legal but returns a guard-paged region anyway; keep
    // an empty buffer allocation-free instead.
    if (size_ == 0) {
        return;
    }
    if (size_ <= SecretSlab::kSlotSize) {
        data_ = SecretSlab::instance().take();
    }
    if (data_ == nullptr) {
        data_ = static_cast<char*>(sodium_malloc(size_));
    }
    if (data_ == nullptr) {
        throw std::bad_alloc();
    }
}

SecretBuffer::SecretBuffer(std::string_view text) : SecretBuffer(text.size()) {
    std::copy(text.begin(), text.end(), data_);
}

SecretBuffer::SecretBuffer(SecretBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

SecretBuffer::~SecretBuffer() {
    release();
}

void SecretBuffer::release() noexcept {
    if (data_ != nullptr && SecretSlab::instance().owns(data_)) {
        SecretSlab::instance().give_back(data_);
    } else {
        // sodium_free zeroes the region before unmapping it.
        sodium_free(data_);
    }
    data_ = nullptr;
    size_ = 0;
}

} // namespace apitoken::store
