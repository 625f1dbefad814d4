// InboundFraming: what the daemon lets through to sd-bus on a direct
// connection, fed as a peer would send it.
#include "daemon/inbound_framing.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace apitoken::daemon {
namespace {

using Verdict = InboundFraming::Verdict;

constexpr std::size_t kBound = 1024;

// What sd-bus's client sends before its first message (pipelined).
std::string handshake() {
    return std::string(1, '\0') + "AUTH EXTERNAL 30\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
}

std::string put_u32(std::uint32_t value, bool little) {
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) {
        const auto byte = static_cast<char>((value >> (8U * static_cast<unsigned>(i))) & 0xFFU);
        out[static_cast<std::size_t>(little ? i : 3 - i)] = byte;
    }
    return out;
}

// A whole message: header fields of `fields` bytes (padded to 8) and a
// body of `body` bytes.
std::string message(std::uint32_t fields, std::uint32_t body, bool little = true) {
    std::string m{little ? 'l' : 'B', '\1', '\0', '\1'};
    m += put_u32(body, little) + put_u32(7, little) + put_u32(fields, little);
    m += std::string((fields + 7U) & ~7U, 'f') + std::string(body, 'b');
    return m;
}

Verdict feed(InboundFraming& framing, const std::string& bytes) {
    return framing.feed({bytes.data(), bytes.size()});
}

TEST(InboundFraming, MessagesAfterTheHandshakePassUpToTheBound) {
    InboundFraming framing(kBound);
    EXPECT_EQ(feed(framing, handshake()), Verdict::Ok);
    EXPECT_TRUE(framing.in_messages());
    // 16 + 8 (5 padded) + 1000 = 1024: exactly the bound.
    EXPECT_EQ(feed(framing, message(5, 1000) + message(0, 0) + message(16, 3)), Verdict::Ok);
    EXPECT_EQ(feed(framing, message(5, 1001)), Verdict::TooLarge);
    EXPECT_EQ(feed(framing, message(0, 0)), Verdict::TooLarge) << "a refusal is final";
}

TEST(InboundFraming, ByteByByteIsTheSameAsAllAtOnce) {
    const std::string stream =
        handshake() + message(3, 100) + message(8, 0, false) + message(100, 2000);
    InboundFraming whole(kBound);
    InboundFraming bytes(kBound);
    Verdict last = Verdict::Ok;
    std::size_t refused_at = stream.size();
    for (std::size_t i = 0; i < stream.size() && last == Verdict::Ok; ++i) {
        last = bytes.feed({stream.data() + i, 1});
        refused_at = last == Verdict::Ok ? refused_at : i;
    }
    EXPECT_EQ(feed(whole, stream), Verdict::TooLarge);
    EXPECT_EQ(last, Verdict::TooLarge);
    // Refused as soon as the third header is complete, not at its end.
    EXPECT_EQ(refused_at,
              handshake().size() + message(3, 100).size() + message(8, 0, false).size() + 15);
}

TEST(InboundFraming, BigEndianLengthsAreReadAsSuch) {
    InboundFraming framing(kBound);
    feed(framing, handshake());
    // 0x00000300 big endian is 768; read little endian it would be 196608.
    EXPECT_EQ(feed(framing, message(0, 0x300, false)), Verdict::Ok);
    EXPECT_EQ(feed(framing, message(0, 0x10000, false)), Verdict::TooLarge);
}

TEST(InboundFraming, LengthsThatWouldOverflowAreTooLarge) {
    InboundFraming framing(std::size_t{4} << 20U);
    feed(framing, handshake());
    std::string header{'l', '\1', '\0', '\1'};
    header += put_u32(0xFFFFFFFFU, true) + put_u32(1, true) + put_u32(0xFFFFFFFFU, true);
    EXPECT_EQ(feed(framing, header), Verdict::TooLarge);
}

TEST(InboundFraming, WhatIsNotDBusIsMalformed) {
    InboundFraming no_nul(kBound);
    EXPECT_EQ(feed(no_nul, "AUTH EXTERNAL 30\r\n"), Verdict::Malformed);
    InboundFraming bad_order(kBound);
    feed(bad_order, handshake());
    EXPECT_EQ(feed(bad_order, std::string(16, 'x')), Verdict::Malformed);
}

TEST(InboundFraming, OnlyALineThatIsExactlyBeginEndsTheHandshake) {
    InboundFraming framing(kBound);
    // Lines sd-bus would not take as BEGIN: the bytes after them are still
    // handshake, however message-like.
    EXPECT_EQ(feed(framing, std::string(1, '\0') + "BEGINX\r\nXBEGIN\r\nBEGIN\n\r\n begin\r\n"),
              Verdict::Ok);
    EXPECT_FALSE(framing.in_messages());
    EXPECT_EQ(feed(framing, "BEGIN\r\n"), Verdict::Ok);
    EXPECT_TRUE(framing.in_messages());
}

TEST(InboundFraming, AnEndlessHandshakeIsTooLarge) {
    InboundFraming framing(kBound, 64);
    EXPECT_EQ(feed(framing, std::string(1, '\0') + std::string(64, 'A')), Verdict::Ok);
    EXPECT_EQ(feed(framing, "A"), Verdict::TooLarge);
}

} // namespace
} // namespace apitoken::daemon
