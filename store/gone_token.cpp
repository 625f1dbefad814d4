#include "store/gone_token.hpp"

#include "store/store_keys.hpp"

#include <chrono>
#include <cstddef>
#include <limits>

namespace apitoken::store {
namespace {

constexpr char kGoneFormat = 1;
constexpr std::size_t kTimeBytes = 8;
constexpr std::size_t kLengthBytes = 2;

void append_le(std::string& out, std::uint64_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
    }
}

// Reads little-endian integers and length-prefixed text off the front.
class Reader {
public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    std::optional<std::uint64_t> number(std::size_t bytes) {
        if (rest_.size() < bytes) {
            return std::nullopt;
        }
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            value |= std::uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
        }
        rest_.remove_prefix(bytes);
        return value;
    }

    std::optional<std::string> text() {
        const auto size = number(kLengthBytes);
        if (!size || rest_.size() < *size) {
            return std::nullopt;
        }
        std::string out(rest_.substr(0, *size));
        rest_.remove_prefix(*size);
        return out;
    }

    [[nodiscard]] bool done() const noexcept { return rest_.empty(); }

private:
    std::string_view rest_;
};

// Names and user names are far shorter; a longer text is cut (the
// tombstone is for a scan's answer, not an archive).
std::string_view bounded(std::string_view text) {
    return text.substr(0, std::numeric_limits<std::uint16_t>::max());
}

} // namespace

GoneToken gone_token_of(const TokenRecord& record, TimePoint now) {
    return {.reason = record.expired_at(now) ? GoneReason::Expired : GoneReason::Revoked,
            .user = record.user,
            .uid = record.uid,
            .name = record.name,
            .when = now};
}

std::string encode_gone_token(const GoneToken& gone) {
    std::string out;
    out.push_back(kGoneFormat);
    out.push_back(static_cast<char>(gone.reason));
    out += encode_u32(static_cast<std::uint32_t>(gone.uid));
    append_le(out, static_cast<std::uint64_t>(gone.when.time_since_epoch().count()), kTimeBytes);
    for (const std::string_view text : {bounded(gone.user), bounded(gone.name)}) {
        append_le(out, text.size(), kLengthBytes);
        out += text;
    }
    return out;
}

std::optional<GoneToken> decode_gone_token(std::string_view bytes) {
    Reader reader(bytes);
    const auto format = reader.number(1);
    const auto reason = reader.number(1);
    const auto uid = reader.number(4);
    const auto when = reader.number(kTimeBytes);
    auto user = reader.text();
    auto name = reader.text();
    if (!format || *format != kGoneFormat || !reason ||
        (*reason != static_cast<std::uint8_t>(GoneReason::Revoked) &&
         *reason != static_cast<std::uint8_t>(GoneReason::Expired)) ||
        !uid || !when || !user || !name || !reader.done()) {
        return std::nullopt;
    }
    return GoneToken{.reason = static_cast<GoneReason>(*reason),
                     .user = std::move(*user),
                     .uid = static_cast<uid_t>(*uid),
                     .name = std::move(*name),
                     .when = TimePoint(std::chrono::seconds(static_cast<std::int64_t>(*when)))};
}

} // namespace apitoken::store
