#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apitoken::ipc {

// A string for secrets (a token) in code that cannot use libsodium (the PAM
// module links only libpam and libsystemd): its capacity is fixed when it is
// made, so it never reallocates and leaves a copy behind, and it is wiped
// with explicit_bzero when destroyed or cleared. Move-only.
class SensitiveString {
public:
    SensitiveString() = default;
    explicit SensitiveString(std::string_view text);
    SensitiveString(const SensitiveString&) = delete;
    SensitiveString& operator=(const SensitiveString&) = delete;
    SensitiveString(SensitiveString&& other) noexcept;
    SensitiveString& operator=(SensitiveString&& other) noexcept;
    ~SensitiveString();

    void clear() noexcept;
    [[nodiscard]] std::string_view view() const noexcept { return text_; }
    [[nodiscard]] const char* c_str() const noexcept { return text_.c_str(); }
    [[nodiscard]] bool empty() const noexcept { return text_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return text_.size(); }

private:
    std::string text_;
};

} // namespace apitoken::ipc
