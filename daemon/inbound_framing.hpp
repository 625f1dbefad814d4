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
//
// It stops at each boundary (the end of the BEGIN line, the end of a
// message), so that the relay can hold what follows until sd-bus is where
// the framing thinks it is: a BEGIN that sd-bus did not accept (no AUTH
// before it) must not make the framing read SASL lines as message headers.
class InboundFraming {
public:
    enum class Verdict {
        Ok,        // pass the bytes on
        TooLarge,  // a message (or the handshake) beyond the bound
        Malformed, // not D-Bus: no NUL first, or an unknown byte order
    };
    enum class Boundary {
        None,         // the bytes taken end inside the handshake or a message
        HandshakeEnd, // they end with the BEGIN line
        MessageEnd,   // they end with a whole message
    };
    struct Step {
        std::size_t taken = 0; // bytes that may go on to sd-bus
        Boundary boundary = Boundary::None;
    };

    explicit InboundFraming(std::size_t max_message_bytes,
                            std::size_t max_handshake_bytes = std::size_t{16} << 10U);

    // Takes bytes from the front of `bytes` up to the next boundary (or all
    // of them). Nothing is taken once the verdict is not Ok.
    Step step(std::span<const char> bytes);
    // All of `bytes`, boundaries or not (tests, the fuzzer).
    Verdict feed(std::span<const char> bytes);

    [[nodiscard]] Verdict verdict() const noexcept { return verdict_; }
    [[nodiscard]] bool in_messages() const noexcept { return phase_ >= Phase::Header; }
    // Bytes of the message under way (0 between messages): what sd-bus
    // holds for it until it is whole.
    [[nodiscard]] std::uint64_t partial_message_bytes() const noexcept;

private:
    enum class Phase { Nul, Handshake, Header, Body };
    bool handshake_byte(char c); // true at the end of the BEGIN line
    bool header_complete();      // true when the message is whole already

    std::size_t max_message_bytes_;
    std::size_t max_handshake_bytes_;
    Phase phase_ = Phase::Nul;
    Verdict verdict_ = Verdict::Ok;
    std::size_t handshake_bytes_ = 0;
    std::string line_; // the current SASL line's start: enough to tell BEGIN
    std::size_t line_length_ = 0;
    unsigned char header_[16]{};
    std::size_t header_bytes_ = 0;
    std::uint64_t message_bytes_ = 0; // the whole current message (read in Body only)
    std::uint64_t body_left_ = 0;     // the rest of it
};

} // namespace apitoken::daemon
