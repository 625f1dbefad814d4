#pragma once

// The a{sv} dictionaries of the newer methods (design.md: "New methods use
// a{sv} so that fields can be added without new signatures"): keys are
// snake_case, times are Unix seconds. Both ends read and write them here.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sd_bus_message;

namespace apitoken::ipc {

// The value types the contract uses: b, u, x, t, s, as, and aa{sv} (a list
// of records, such as a token's recent sources).
struct Value;
using Dictionary = std::map<std::string, Value, std::less<>>;
using DictionaryList = std::vector<Dictionary>;
struct Value : std::variant<bool, std::uint32_t, std::int64_t, std::uint64_t, std::string,
                            std::vector<std::string>, DictionaryList> {
    using variant::variant;
};

// How much one read may take out of a message, so that a hostile request
// costs bounded time and memory: bytes of keys and strings copied, and
// entries and list items read (recursively, for aa{sv} values). Past
// either, reading stops with -E2BIG. Requests (in the daemon) are read
// with kRequestLimits and refuse values of types the contract does not
// use (-EBADMSG); replies (in clients) with kReplyLimits, skipping such
// values (a newer daemon's).
struct ReadLimits {
    std::size_t bytes;
    std::size_t items;
    bool skip_unknown_types;
};
inline constexpr ReadLimits kRequestLimits{std::size_t{1} << 20U, 65536, false};
inline constexpr ReadLimits kReplyLimits{std::size_t{1} << 30U, std::size_t{1} << 24U, true};

// Reads an a{sv}. Repeated keys keep their first value. `bytes_read`, if
// given, gets the bytes of keys and strings copied.
int read_dictionary(sd_bus_message* m, Dictionary& out, ReadLimits limits,
                    std::size_t* bytes_read = nullptr);
int append_dictionary(sd_bus_message* m, const Dictionary& dictionary);
// aa{sv}
int read_dictionaries(sd_bus_message* m, std::vector<Dictionary>& out, ReadLimits limits);
int append_dictionaries(sd_bus_message* m, const std::vector<Dictionary>& dictionaries);

// The value of `key` if present with type T; nullopt when absent.
// `wrong_type` is set when the key is there with another type.
template <typename T>
std::optional<T> value_of(const Dictionary& dictionary, std::string_view key, bool& wrong_type) {
    const auto found = dictionary.find(key);
    if (found == dictionary.end()) {
        return std::nullopt;
    }
    if (const T* value = std::get_if<T>(&static_cast<const Value::variant&>(found->second))) {
        return *value;
    }
    wrong_type = true;
    return std::nullopt;
}

} // namespace apitoken::ipc
