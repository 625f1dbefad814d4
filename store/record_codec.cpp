#include "store/record_codec.hpp"

#include "store/store_error.hpp"

#include <cstdint>
#include <limits>

namespace apitoken::store {
namespace {

constexpr std::size_t kMaxStringLength = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxServices = std::numeric_limits<std::uint8_t>::max();

class RecordWriter {
public:
    void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
    void u32(std::uint32_t value) { little_endian(value, 4); }
    void u64(std::uint64_t value) { little_endian(value, 8); }
    void time(TimePoint value) {
        u64(static_cast<std::uint64_t>(value.time_since_epoch().count()));
    }
    void optional_time(const std::optional<TimePoint>& value) {
        u8(value ? 1 : 0);
        time(value.value_or(TimePoint{}));
    }
    void str(std::string_view value, const char* field) {
        if (value.size() > kMaxStringLength) {
            throw StoreError(StoreErrc::InvalidArgument,
                             std::string(field) + " is too long to store");
        }
        little_endian(value.size(), 2);
        out_.append(value);
    }
    [[nodiscard]] std::string take() { return std::move(out_); }

private:
    void little_endian(std::uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out_.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
        }
    }
    std::string out_;
};

// Reads fields in order; any read past the end sets a sticky failure flag so
// the decoder can check once at the end.
class RecordReader {
public:
    explicit RecordReader(std::string_view in) : in_(in) {}

    std::uint8_t u8() { return static_cast<std::uint8_t>(little_endian(1)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(little_endian(4)); }
    std::uint64_t u64() { return little_endian(8); }
    TimePoint time() { return TimePoint{std::chrono::seconds{static_cast<std::int64_t>(u64())}}; }
    std::optional<TimePoint> optional_time() {
        const std::uint8_t present = u8();
        const TimePoint value = time();
        if (present > 1) {
            failed_ = true;
        }
        return present == 1 ? std::optional(value) : std::nullopt;
    }
    std::string str() {
        const auto size = static_cast<std::size_t>(little_endian(2));
        if (failed_ || in_.size() < size) {
            failed_ = true;
            return {};
        }
        std::string value(in_.substr(0, size));
        in_.remove_prefix(size);
        return value;
    }
    [[nodiscard]] bool failed() const noexcept { return failed_; }
    [[nodiscard]] bool ok_and_consumed() const noexcept { return !failed_ && in_.empty(); }

private:
    std::uint64_t little_endian(std::size_t bytes) {
        if (failed_ || in_.size() < bytes) {
            failed_ = true;
            return 0;
        }
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            value |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
        }
        in_.remove_prefix(bytes);
        return value;
    }
    std::string_view in_;
    bool failed_ = false;
};

} // namespace

std::string encode_record(const TokenRecord& record) {
    if (record.services.size() > kMaxServices) {
        throw StoreError(StoreErrc::InvalidArgument, "too many services for one token");
    }
    RecordWriter w;
    w.u8(kRecordFormat);
    w.u32(record.uid);
    w.time(record.created);
    w.optional_time(record.expires);
    w.u64(record.use_count);
    w.optional_time(record.last_used);
    w.str(record.user, "user name");
    w.str(record.name, "token name");
    w.str(record.hash, "hash");
    w.str(record.last_service, "service");
    w.str(record.last_rhost, "remote host");
    w.u8(static_cast<std::uint8_t>(record.services.size()));
    for (const auto& service : record.services) {
        w.str(service, "service");
    }
    return w.take();
}

std::optional<TokenRecord> decode_record(const TokenId& id, std::string_view bytes) noexcept {
    try {
        RecordReader r(bytes);
        if (r.u8() != kRecordFormat) {
            return std::nullopt;
        }
        TokenRecord record;
        record.id = id;
        record.uid = r.u32();
        record.created = r.time();
        record.expires = r.optional_time();
        record.use_count = r.u64();
        record.last_used = r.optional_time();
        record.user = r.str();
        record.name = r.str();
        record.hash = r.str();
        record.last_service = r.str();
        record.last_rhost = r.str();
        const std::uint8_t service_count = r.u8();
        for (std::uint8_t i = 0; i < service_count && !r.failed(); ++i) {
            record.services.push_back(r.str());
        }
        if (!r.ok_and_consumed()) {
            return std::nullopt;
        }
        return record;
    } catch (...) {
        // Only allocation can throw here; a record we cannot hold is as good
        // as unreadable to the caller.
        return std::nullopt;
    }
}

} // namespace apitoken::store
