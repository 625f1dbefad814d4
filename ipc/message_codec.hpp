#pragma once

// Reading and writing the bus contract's composite arguments, the same way
// on both ends (the daemon and the client), with the signatures of
// bus_api.hpp. Each returns what sd-bus returns: a negative errno on
// failure. They may throw std::bad_alloc while copying out of a message;
// nothing they read is leaked when they do.

#include "ipc/token_info.hpp"

#include <string>
#include <vector>

struct sd_bus_message;

namespace apitoken::ipc {

// An `as` argument.
int read_strings(sd_bus_message* m, std::vector<std::string>& out);
int append_strings(sd_bus_message* m, const std::vector<std::string>& values);

// One signature::kTokenInfo structure, and an array of them.
int append_token_info(sd_bus_message* m, const TokenInfo& info);
int read_token_info(sd_bus_message* m, TokenInfo& info);
int append_token_list(sd_bus_message* m, const std::vector<TokenInfo>& tokens);
int read_token_list(sd_bus_message* m, std::vector<TokenInfo>& out);

} // namespace apitoken::ipc
