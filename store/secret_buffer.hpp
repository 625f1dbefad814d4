#pragma once

#include <cstddef>
#include <string_view>

namespace apitoken::store {

// Memory for a secret (a token's text): a slot of the SecretSlab when it is
// small, else its own sodium_malloc; either way locked out of swap, fenced by
// guard pages, left out of core dumps, and wiped when released.
// Move-only, so a secret never gets silently copied into ordinary memory.
class SecretBuffer {
public:
    SecretBuffer() = default;
    explicit SecretBuffer(std::size_t size);
    explicit SecretBuffer(std::string_view text);
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;
    SecretBuffer(SecretBuffer&& other) noexcept;
    SecretBuffer& operator=(SecretBuffer&& other) noexcept;
    ~SecretBuffer();

    [[nodiscard]] char* data() noexcept { return data_; }
    [[nodiscard]] const char* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

private:
    void release() noexcept;

    char* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace apitoken::store
