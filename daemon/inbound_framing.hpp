#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace apitoken::daemon {

// Follows the bytes a direct connection's peer sends, as sd-bus's server
// reads them: a NUL byte, SASL lines up to "BEGIN", then D-Bus messages,
// each announcing its length in its first 16 bytes. sd-bus has no bound of
// its own below 128 MiB per message (and allocates what a header claims),
// so the daemon checks each header here, before sd-bus sees a byte of the
// message, and refuses a connection whose message would be larger than
// what any apitoken call needs.
class InboundFraming {
public:
    enum class Verdict {
        Ok,        // pass the bytes on
        TooLarge,  // a message (or the handshake) beyond the bound
        Malformed, // not D-Bus: no NUL first, or an unknown byte order
    };

    explicit InboundFraming(std::size_t max_message_bytes,
                            std::size_t max_handshake_bytes = 16 * 1024);

    // The next bytes from the peer, in order. Once not Ok, stays so.
    Verdict feed(std::span<const char> bytes);

    [[nodiscard]] bool in_messages() const noexcept { return phase_ >= Phase::Header; }

private:
    enum class Phase { Nul, Handshake, Header, Body };
    void handshake_byte(char c);
    void header_complete();

    std::size_t max_message_bytes_;
    std::size_t max_handshake_bytes_;
    Phase phase_ = Phase::Nul;
    Verdict verdict_ = Verdict::Ok;
    std::size_t handshake_bytes_ = 0;
    std::string line_; // the current SASL line's start: enough to tell BEGIN
    std::size_t line_length_ = 0;
    unsigned char header_[16]{};
    std::size_t header_bytes_ = 0;
    std::uint64_t body_left_ = 0; // the rest of the current message
};

} // namespace apitoken::daemon
