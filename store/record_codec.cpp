#include "store/record_codec.hpp"

#include "store/store_error.hpp"

#include <cstdint>
#include <limits>

namespace apitoken::store {
namespace {

constexpr std::size_t kMaxStringLength = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxServices = std::numeric_limits<std::uint8_t>::max();
constexpr std::size_t kMaxListLength = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxRecentSourcesEncoded = std::numeric_limits<std::uint8_t>::max();

class RecordWriter {
public:
    void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
    void u32(std::uint32_t value) { little_endian(value, 4); }
    void u64(std::uint64_t value) { little_endian(value, 8); }
    void flag(bool value) { u8(value ? 1 : 0); }
    void time(TimePoint value) {
        u64(static_cast<std::uint64_t>(value.time_since_epoch().count()));
    }
    void optional_time(const std::optional<TimePoint>& value) {
        flag(value.has_value());
        time(value.value_or(TimePoint{}));
    }
    // Present flag, then always the 6 id bytes (zeros when absent): a fixed
    // layout, as for times.
    void optional_id(const std::optional<TokenId>& value) {
        flag(value.has_value());
        if (value) {
            out_.append(value->key());
        } else {
            out_.append(TokenId::kBytes, '\0');
        }
    }
    void str(std::string_view value, const char* field) {
        if (value.size() > kMaxStringLength) {
            throw StoreError(StoreErrc::InvalidArgument,
                             std::string(field) + " is too long to store");
        }
        little_endian(value.size(), 2);
        out_.append(value);
    }
    // A u16 count, then the strings.
    void list(const std::vector<std::string>& values, const char* field) {
        if (values.size() > kMaxListLength) {
            throw StoreError(StoreErrc::InvalidArgument,
                             std::string("too many ") + field + " for one token");
        }
        little_endian(values.size(), 2);
        for (const auto& value : values) {
            str(value, field);
        }
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

// Reads fields in order; any read past the end (or any value the writer
// never writes) sets a sticky failure flag so the decoder can check once at
// the end.
class RecordReader {
public:
    explicit RecordReader(std::string_view in) : in_(in) {}

    std::uint8_t u8() { return static_cast<std::uint8_t>(little_endian(1)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(little_endian(4)); }
    std::uint64_t u64() { return little_endian(8); }
    bool flag() {
        const std::uint8_t value = u8();
        failed_ = failed_ || value > 1;
        return value == 1;
    }
    TimePoint time() { return TimePoint{std::chrono::seconds{static_cast<std::int64_t>(u64())}}; }
    std::optional<TimePoint> optional_time() {
        const bool present = flag();
        const TimePoint value = time();
        return present ? std::optional(value) : std::nullopt;
    }
    std::optional<TokenId> optional_id() {
        const bool present = flag();
        const std::string bytes = raw(TokenId::kBytes);
        if (!present || failed_) {
            return std::nullopt;
        }
        return TokenId::from_bytes(bytes);
    }
    std::string str() { return raw(static_cast<std::size_t>(little_endian(2))); }
    // Reads at most as many strings as the input can hold (each takes at
    // least its 2 length bytes), so a forged count allocates nothing big.
    std::vector<std::string> list() {
        const auto count = static_cast<std::size_t>(little_endian(2));
        std::vector<std::string> values;
        for (std::size_t i = 0; i < count && !failed_; ++i) {
            values.push_back(str());
        }
        return values;
    }
    [[nodiscard]] bool failed() const noexcept { return failed_; }
    [[nodiscard]] bool ok_and_consumed() const noexcept { return !failed_ && in_.empty(); }

private:
    std::string raw(std::size_t size) {
        if (failed_ || in_.size() < size) {
            failed_ = true;
            return {};
        }
        std::string value(in_.substr(0, size));
        in_.remove_prefix(size);
        return value;
    }
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

// The fields format 1 had, in its layout (format 2 starts the same way).
void write_format1_fields(RecordWriter& w, const TokenRecord& record) {
    if (record.services.size() > kMaxServices) {
        throw StoreError(StoreErrc::InvalidArgument, "too many services for one token");
    }
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
}

void write_recent_sources(RecordWriter& w, const std::vector<RecentSource>& sources) {
    if (sources.size() > kMaxRecentSourcesEncoded) {
        throw StoreError(StoreErrc::InvalidArgument, "too many recent sources for one token");
    }
    w.u8(static_cast<std::uint8_t>(sources.size()));
    for (const auto& source : sources) {
        w.str(source.rhost, "remote host");
        w.str(source.service, "service");
        w.time(source.first_used);
        w.time(source.last_used);
        w.u64(source.count);
    }
}

void write_policy_fields(RecordWriter& w, const TokenRecord& record) {
    w.str(record.description, "description");
    w.list(record.sources, "source networks");
    w.u64(record.max_uses);
    w.list(record.hosts, "host names");
    write_recent_sources(w, record.recent_sources);
    w.str(record.origin, "origin");
    w.str(record.origin_id, "origin id");
    w.optional_id(record.rotated_from);
    w.optional_id(record.rotated_to);
    w.optional_time(record.grace_until);
    w.u32(record.created_by);
    w.flag(record.expiry_warned);
}

void read_format1_fields(RecordReader& r, TokenRecord& record) {
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
}

void read_recent_sources(RecordReader& r, std::vector<RecentSource>& sources) {
    const std::uint8_t count = r.u8();
    for (std::uint8_t i = 0; i < count && !r.failed(); ++i) {
        RecentSource source;
        source.rhost = r.str();
        source.service = r.str();
        source.first_used = r.time();
        source.last_used = r.time();
        source.count = r.u64();
        sources.push_back(std::move(source));
    }
}

void read_policy_fields(RecordReader& r, TokenRecord& record) {
    record.description = r.str();
    record.sources = r.list();
    record.max_uses = r.u64();
    record.hosts = r.list();
    read_recent_sources(r, record.recent_sources);
    record.origin = r.str();
    record.origin_id = r.str();
    record.rotated_from = r.optional_id();
    record.rotated_to = r.optional_id();
    record.grace_until = r.optional_time();
    record.created_by = r.u32();
    record.expiry_warned = r.flag();
}

} // namespace

std::string encode_record(const TokenRecord& record) {
    RecordWriter w;
    w.u8(kRecordFormat);
    write_format1_fields(w, record);
    write_policy_fields(w, record);
    return w.take();
}

std::optional<TokenRecord> decode_record(const TokenId& id, std::string_view bytes) noexcept {
    try {
        RecordReader r(bytes);
        const std::uint8_t format = r.u8();
        if (format < kOldestRecordFormat || format > kRecordFormat) {
            return std::nullopt;
        }
        TokenRecord record;
        record.id = id;
        read_format1_fields(r, record);
        if (format >= 2) {
            read_policy_fields(r, record);
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
