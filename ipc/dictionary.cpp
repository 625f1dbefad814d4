#include "ipc/dictionary.hpp"

#include "ipc/message_codec.hpp"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <string_view>
#include <type_traits>
#include <utility>

namespace apitoken::ipc {
namespace {

// What is left of a read's limits.
struct Budget {
    std::size_t bytes;
    std::size_t items;
    bool skip_unknown_types;

    // False (and nothing left) once the read has taken too much.
    bool take(std::size_t byte_count, std::size_t item_count = 1) {
        if (byte_count > bytes || item_count > items) {
            bytes = 0;
            items = 0;
            return false;
        }
        bytes -= byte_count;
        items -= item_count;
        return true;
    }
};

int read_entries(sd_bus_message* m, Dictionary& out, Budget& budget);
int read_list(sd_bus_message* m, DictionaryList& out, Budget& budget);

int read_string(sd_bus_message* m, Budget& budget, std::string& out) {
    const char* value = nullptr;
    const int r = sd_bus_message_read_basic(m, 's', &value);
    if (r < 0) {
        return r;
    }
    // sd-bus hands out a pointer into the message: measure before copying.
    const std::string_view text(value);
    if (!budget.take(text.size())) {
        return -E2BIG;
    }
    out.assign(text);
    return r;
}

int read_strings_within(sd_bus_message* m, Budget& budget, std::vector<std::string>& out) {
    int r = sd_bus_message_enter_container(m, 'a', "s");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_at_end(m, 0)) == 0) {
        if (!budget.take(0)) {
            return -E2BIG;
        }
        std::string value;
        if ((r = read_string(m, budget, value)) < 0) {
            return r;
        }
        out.push_back(std::move(value));
    }
    return r < 0 ? r : sd_bus_message_exit_container(m);
}

template <typename T>
int read_basic(sd_bus_message* m, char type, Value& out) {
    T value{};
    const int r = sd_bus_message_read_basic(m, type, &value);
    if (r >= 0) {
        out = value;
    }
    return r;
}

int read_bool(sd_bus_message* m, Value& out) {
    int value = 0; // sd-bus reads a D-Bus boolean into an int
    const int r = sd_bus_message_read_basic(m, 'b', &value);
    if (r >= 0) {
        out = value != 0;
    }
    return r;
}

int read_contents(sd_bus_message* m, std::string_view type, Budget& budget, Value& out) {
    if (type == "b") {
        return read_bool(m, out);
    }
    if (type == "u") {
        return read_basic<std::uint32_t>(m, 'u', out);
    }
    if (type == "x") {
        return read_basic<std::int64_t>(m, 'x', out);
    }
    if (type == "t") {
        return read_basic<std::uint64_t>(m, 't', out);
    }
    if (type == "s") {
        std::string text;
        const int r = read_string(m, budget, text);
        out = std::move(text);
        return r;
    }
    if (type == "as") {
        std::vector<std::string> texts;
        const int r = read_strings_within(m, budget, texts);
        out = std::move(texts);
        return r;
    }
    DictionaryList list;
    const int r = read_list(m, list, budget);
    out = std::move(list);
    return r;
}

// The variant's value, if of a type we know; 0 (and `known` false) when skipped.
int read_value(sd_bus_message* m, Value& out, bool& known, Budget& budget) {
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, nullptr, &contents);
    if (r < 0) {
        return r;
    }
    const std::string_view type(contents != nullptr ? contents : "");
    known = type == "b" || type == "u" || type == "x" || type == "t" || type == "s" ||
            type == "as" || type == "aa{sv}";
    if (!known) {
        return budget.skip_unknown_types ? sd_bus_message_skip(m, "v") : -EBADMSG;
    }
    if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0 ||
        (r = read_contents(m, type, budget, out)) < 0) {
        return r;
    }
    return sd_bus_message_exit_container(m);
}

int read_entry(sd_bus_message* m, Dictionary& out, Budget& budget) {
    std::string key;
    int r = read_string(m, budget, key);
    if (r < 0) {
        return r;
    }
    Value value;
    bool known = false;
    if ((r = read_value(m, value, known, budget)) < 0) {
        return r;
    }
    if (known) {
        out.emplace(std::move(key), std::move(value)); // a repeated key keeps its first value
    }
    return 0;
}

int read_entries(sd_bus_message* m, Dictionary& out, Budget& budget) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        if (!budget.take(0)) {
            return -E2BIG;
        }
        if ((r = read_entry(m, out, budget)) < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
            return r;
        }
    }
    return r < 0 ? r : sd_bus_message_exit_container(m);
}

int read_list(sd_bus_message* m, DictionaryList& out, Budget& budget) {
    int r = sd_bus_message_enter_container(m, 'a', "a{sv}");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_at_end(m, 0)) == 0) {
        if (!budget.take(0)) {
            return -E2BIG;
        }
        Dictionary dictionary;
        if ((r = read_entries(m, dictionary, budget)) < 0) {
            return r;
        }
        out.push_back(std::move(dictionary));
    }
    return r < 0 ? r : sd_bus_message_exit_container(m);
}

int append_value(sd_bus_message* m, const Value& value) {
    return std::visit(
        [m](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                return sd_bus_message_append(m, "v", "b", static_cast<int>(v));
            } else if constexpr (std::is_same_v<T, std::uint32_t>) {
                return sd_bus_message_append(m, "v", "u", v);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                return sd_bus_message_append(m, "v", "x", v);
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
                return sd_bus_message_append(m, "v", "t", v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                return sd_bus_message_append(m, "v", "s", v.c_str());
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                int r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0) {
                    r = append_strings(m, v);
                }
                return r < 0 ? r : sd_bus_message_close_container(m);
            } else {
                int r = sd_bus_message_open_container(m, 'v', "aa{sv}");
                if (r >= 0) {
                    r = append_dictionaries(m, v);
                }
                return r < 0 ? r : sd_bus_message_close_container(m);
            }
        },
        static_cast<const Value::variant&>(value));
}

} // namespace

int read_dictionary(sd_bus_message* m, Dictionary& out, ReadLimits limits,
                    std::size_t* bytes_read) {
    Budget budget{limits.bytes, limits.items, limits.skip_unknown_types};
    const int r = read_entries(m, out, budget);
    if (bytes_read != nullptr) {
        *bytes_read = limits.bytes - budget.bytes;
    }
    return r;
}

int append_dictionary(sd_bus_message* m, const Dictionary& dictionary) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (const auto& [key, value] : dictionary) {
        if (r >= 0) {
            r = sd_bus_message_open_container(m, 'e', "sv");
        }
        if (r >= 0) {
            r = sd_bus_message_append_basic(m, 's', key.c_str());
        }
        if (r >= 0) {
            r = append_value(m, value);
        }
        if (r >= 0) {
            r = sd_bus_message_close_container(m);
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int read_dictionaries(sd_bus_message* m, std::vector<Dictionary>& out, ReadLimits limits) {
    Budget budget{limits.bytes, limits.items, limits.skip_unknown_types};
    return read_list(m, out, budget);
}

int append_dictionaries(sd_bus_message* m, const std::vector<Dictionary>& dictionaries) {
    int r = sd_bus_message_open_container(m, 'a', "a{sv}");
    for (const auto& dictionary : dictionaries) {
        if (r >= 0) {
            r = append_dictionary(m, dictionary);
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

} // namespace apitoken::ipc
