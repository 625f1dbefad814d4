#include "ipc/message_codec.hpp"

#include "ipc/bus_api.hpp"

#include <systemd/sd-bus.h>

#include <utility>

namespace apitoken::ipc {
namespace {

// Runs `each` for every element of the open array, then leaves it.
template <typename Each>
int for_each_in_array(sd_bus_message* m, const char* contents, Each&& each) {
    int r = sd_bus_message_enter_container(m, 'a', contents);
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_at_end(m, 0)) == 0) {
        if ((r = each()) < 0) {
            return r;
        }
    }
    return r < 0 ? r : sd_bus_message_exit_container(m);
}

} // namespace

int read_strings(sd_bus_message* m, std::vector<std::string>& out) {
    // Read in place (sd-bus hands out pointers into the message), so there
    // is no allocated array to leak when a copy throws.
    return for_each_in_array(m, "s", [&] {
        const char* value = nullptr;
        const int r = sd_bus_message_read_basic(m, 's', &value);
        if (r >= 0) {
            out.emplace_back(value);
        }
        return r;
    });
}

int append_strings(sd_bus_message* m, const std::vector<std::string>& values) {
    int r = sd_bus_message_open_container(m, 'a', "s");
    for (const auto& value : values) {
        if (r >= 0) {
            r = sd_bus_message_append_basic(m, 's', value.c_str());
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int append_token_info(sd_bus_message* m, const TokenInfo& info) {
    int r = sd_bus_message_open_container(m, 'r', signature::kTokenInfoFields);
    if (r >= 0) {
        r = sd_bus_message_append(m, "ssxxxtss", info.id.c_str(), info.name.c_str(), info.created,
                                  info.expires, info.last_used, info.use_count,
                                  info.last_service.c_str(), info.last_rhost.c_str());
    }
    if (r >= 0) {
        r = append_strings(m, info.services);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int read_token_info(sd_bus_message* m, TokenInfo& info) {
    int r = sd_bus_message_enter_container(m, 'r', signature::kTokenInfoFields);
    if (r < 0) {
        return r;
    }
    const char* id = nullptr;
    const char* name = nullptr;
    const char* last_service = nullptr;
    const char* last_rhost = nullptr;
    r = sd_bus_message_read(m, "ssxxxtss", &id, &name, &info.created, &info.expires,
                            &info.last_used, &info.use_count, &last_service, &last_rhost);
    if (r < 0) {
        return r;
    }
    info.id = id;
    info.name = name;
    info.last_service = last_service;
    info.last_rhost = last_rhost;
    if ((r = read_strings(m, info.services)) < 0) {
        return r;
    }
    return sd_bus_message_exit_container(m);
}

int append_token_list(sd_bus_message* m, const std::vector<TokenInfo>& tokens) {
    int r = sd_bus_message_open_container(m, 'a', signature::kTokenInfo);
    for (const auto& info : tokens) {
        if (r >= 0) {
            r = append_token_info(m, info);
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int read_token_list(sd_bus_message* m, std::vector<TokenInfo>& out) {
    return for_each_in_array(m, signature::kTokenInfo, [&] {
        TokenInfo info;
        const int r = read_token_info(m, info);
        if (r >= 0) {
            out.push_back(std::move(info));
        }
        return r;
    });
}

} // namespace apitoken::ipc
