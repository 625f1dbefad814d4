#include "daemon/inbound_framing.hpp"

#include <algorithm>
#include <string_view>

namespace apitoken::daemon {
namespace {

constexpr std::string_view kBegin = "BEGIN\r";

std::uint32_t read_u32(const unsigned char* p, bool little_endian) {
    if (little_endian) {
        return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8U) |
               (static_cast<std::uint32_t>(p[2]) << 16U) |
               (static_cast<std::uint32_t>(p[3]) << 24U);
    }
    return static_cast<std::uint32_t>(p[3]) | (static_cast<std::uint32_t>(p[2]) << 8U) |
           (static_cast<std::uint32_t>(p[1]) << 16U) | (static_cast<std::uint32_t>(p[0]) << 24U);
}

} // namespace

InboundFraming::InboundFraming(std::size_t max_message_bytes, std::size_t max_handshake_bytes)
    : max_message_bytes_(max_message_bytes), max_handshake_bytes_(max_handshake_bytes) {}

InboundFraming::Step InboundFraming::step(std::span<const char> bytes) {
    Step result;
    while (verdict_ == Verdict::Ok && result.taken < bytes.size() &&
           result.boundary == Boundary::None) {
        const std::span<const char> rest = bytes.subspan(result.taken);
        switch (phase_) {
        case Phase::Nul: // sd-bus's server refuses anything else first
            verdict_ = rest[0] == '\0' ? Verdict::Ok : Verdict::Malformed;
            phase_ = Phase::Handshake;
            result.taken += verdict_ == Verdict::Ok ? 1 : 0;
            break;
        case Phase::Handshake:
            if (handshake_byte(rest[0])) {
                result.boundary = Boundary::HandshakeEnd;
            }
            result.taken += verdict_ == Verdict::Ok ? 1 : 0;
            break;
        case Phase::Header: {
            const std::size_t take = std::min(sizeof header_ - header_bytes_, rest.size());
            std::copy_n(rest.begin(), take, reinterpret_cast<char*>(header_) + header_bytes_);
            header_bytes_ += take;
            if (header_bytes_ == sizeof header_ && header_complete()) {
                result.boundary = Boundary::MessageEnd;
            }
            result.taken += verdict_ == Verdict::Ok ? take : 0;
            break;
        }
        case Phase::Body: {
            const auto take = std::min<std::uint64_t>(body_left_, rest.size());
            body_left_ -= take;
            result.taken += static_cast<std::size_t>(take);
            if (body_left_ == 0) {
                phase_ = Phase::Header;
                result.boundary = Boundary::MessageEnd;
            }
            break;
        }
        }
    }
    return result;
}

InboundFraming::Verdict InboundFraming::feed(std::span<const char> bytes) {
    std::size_t at = 0;
    while (verdict_ == Verdict::Ok && at < bytes.size()) {
        at += step(bytes.subspan(at)).taken;
    }
    return verdict_;
}

std::uint64_t InboundFraming::partial_message_bytes() const noexcept {
    if (phase_ == Phase::Header) {
        return header_bytes_;
    }
    return phase_ == Phase::Body ? message_bytes_ - body_left_ : 0;
}

// Lines end in "\r\n" (a lone '\n' does not end one, as in sd-bus); the
// line "BEGIN" ends the handshake, as far as the bytes go.
bool InboundFraming::handshake_byte(char c) {
    if (++handshake_bytes_ > max_handshake_bytes_) {
        verdict_ = Verdict::TooLarge;
        return false;
    }
    if (c == '\n' && line_length_ > 0 && line_.back() == '\r') {
        const bool begin = line_length_ == kBegin.size() && line_ == kBegin;
        line_.clear();
        line_length_ = 0;
        if (begin) {
            phase_ = Phase::Header;
        }
        return begin;
    }
    ++line_length_;
    if (line_.size() <= kBegin.size()) {
        line_ += c;
    } else {
        line_.back() = c; // only the last byte matters past BEGIN's length
    }
    return false;
}

// sd-bus's own sum: the fixed header, the header fields padded to 8, the
// body. Everything else in the message is sd-bus's to check.
bool InboundFraming::header_complete() {
    header_bytes_ = 0;
    const unsigned char order = header_[0];
    if (order != 'l' && order != 'B') {
        verdict_ = Verdict::Malformed;
        return false;
    }
    const bool little = order == 'l';
    const std::uint64_t body = read_u32(header_ + 4, little);
    const std::uint64_t fields = read_u32(header_ + 12, little);
    const std::uint64_t total = sizeof header_ + ((fields + 7U) & ~std::uint64_t{7}) + body;
    if (total > max_message_bytes_) {
        verdict_ = Verdict::TooLarge;
        return false;
    }
    message_bytes_ = total;
    body_left_ = total - sizeof header_;
    phase_ = body_left_ == 0 ? Phase::Header : Phase::Body;
    return body_left_ == 0;
}

} // namespace apitoken::daemon
