#pragma once

#include "store/token_format.hpp"
#include "store/token_record.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace apitoken::testing {

// A record with every field set, optional ones included: the codec's unit
// tests and the fuzzer's seed corpus (tests/fuzz/corpus/record_decode_fuzzer)
// start from it.
inline store::TokenRecord full_record() {
    using std::chrono::seconds;
    using store::TimePoint;
    store::TokenRecord r;
    r.id = store::TokenId(store::TokenId::Bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab});
    r.user = "alice";
    r.uid = 1000;
    r.name = "ci-upload";
    r.created = TimePoint{seconds{1'800'000'000}};
    r.expires = TimePoint{seconds{1'900'000'000}};
    r.services = {"sshd", "vsftpd"};
    r.hash = "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
    r.use_count = 42;
    r.last_used = TimePoint{seconds{1'850'000'000}};
    r.last_service = "sshd";
    r.last_rhost = "192.0.2.7";
    r.description = "nightly upload from the CI runner — déploiement";
    r.sources = {"192.0.2.0/24", "2001:db8::/32"};
    r.max_uses = 100;
    r.hosts = {"web-*.example.org", "db1.example.org"};
    r.recent_sources = {
        {"192.0.2.7", "sshd", TimePoint{seconds{1'820'000'000}}, r.last_used.value(), 40},
        {"2001:db8::5", "vsftpd", TimePoint{seconds{1'810'000'000}},
         TimePoint{seconds{1'840'000'000}}, 2},
    };
    r.origin = store::kOriginJenkins;
    r.origin_id = "5e0c4c4a-8f51-4d36-9d0e-7e1f2a3b4c5d";
    r.rotated_from = store::TokenId(store::TokenId::Bytes{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54});
    r.rotated_to = store::TokenId(store::TokenId::Bytes{0x10, 0x32, 0x54, 0x76, 0x98, 0xba});
    r.grace_until = TimePoint{seconds{1'860'000'000}};
    r.created_by = 0;
    r.expiry_warned = true;
    return r;
}

// The bytes the first release (record format 1) wrote for `r`, written here
// independently of store/record_codec.cpp, which no longer writes format 1:
// what a store of schema 1 or 2 holds. The fields format 1 did not have are
// not written.
inline std::string format1_record_bytes(const store::TokenRecord& r) {
    std::string out;
    const auto little_endian = [&](std::uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
        }
    };
    const auto time = [&](store::TimePoint t) {
        little_endian(static_cast<std::uint64_t>(t.time_since_epoch().count()), 8);
    };
    const auto optional_time = [&](const std::optional<store::TimePoint>& t) {
        little_endian(t ? 1 : 0, 1);
        time(t.value_or(store::TimePoint{}));
    };
    const auto str = [&](std::string_view s) {
        little_endian(s.size(), 2);
        out.append(s);
    };
    little_endian(1, 1); // format 1
    little_endian(r.uid, 4);
    time(r.created);
    optional_time(r.expires);
    little_endian(r.use_count, 8);
    optional_time(r.last_used);
    for (const std::string_view s : {r.user, r.name, r.hash, r.last_service, r.last_rhost}) {
        str(s);
    }
    little_endian(r.services.size(), 1);
    for (const auto& service : r.services) {
        str(service);
    }
    return out;
}

} // namespace apitoken::testing
