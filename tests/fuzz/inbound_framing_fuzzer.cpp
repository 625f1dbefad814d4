// Fuzzes daemon::InboundFraming, which reads what any local user sends to
// the direct socket before sd-bus does. The first input byte picks how the
// rest is cut into reads (as the kernel may deliver it in any pieces); the
// verdict must not depend on the cut, and a refusal must be final.
#include "daemon/inbound_framing.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace {

using apitoken::daemon::InboundFraming;
using apitoken::fuzz::check;

// Small bounds, so that the fuzzer reaches both sides of them.
constexpr std::size_t kMaxMessage = 4096;
constexpr std::size_t kMaxHandshake = 512;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t piece = 1 + data[0] % 64U;
    const std::span<const char> stream(reinterpret_cast<const char*>(data + 1), size - 1);

    InboundFraming whole(kMaxMessage, kMaxHandshake);
    const InboundFraming::Verdict at_once = whole.feed(stream);

    InboundFraming pieces(kMaxMessage, kMaxHandshake);
    InboundFraming::Verdict last = InboundFraming::Verdict::Ok;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
        const InboundFraming::Verdict now =
            pieces.feed(stream.subspan(at, std::min(piece, stream.size() - at)));
        check(last == InboundFraming::Verdict::Ok || now == last, "a refusal was taken back");
        last = now;
    }
    check(last == at_once, "the verdict depends on how the bytes were cut");
    check(pieces.in_messages() == whole.in_messages(), "the phase depends on the cut");
    return 0;
}
