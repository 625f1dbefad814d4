#include "ipc/sensitive_string.hpp"

#include <cstring>
#include <utility>

namespace apitoken::ipc {

SensitiveString::SensitiveString(std::string_view text) {
    text_.reserve(text.size());
    text_.assign(text);
}

// Moving a std::string may move its heap buffer (fine: one owner) or copy a
// short string's inline bytes, so the source is wiped either way.
SensitiveString::SensitiveString(SensitiveString&& other) noexcept : text_(std::move(other.text_)) {
    other.clear();
}

SensitiveString& SensitiveString::operator=(SensitiveString&& other) noexcept {
    if (this != &other) {
        clear();
        text_ = std::move(other.text_);
        other.clear();
    }
    return *this;
}

SensitiveString::~SensitiveString() {
    clear();
}

void SensitiveString::clear() noexcept {
    // Wipe the whole capacity: bytes beyond size() may hold an older value.
    explicit_bzero(text_.data(), text_.capacity());
    text_.clear();
}

} // namespace apitoken::ipc
