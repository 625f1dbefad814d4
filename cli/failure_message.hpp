#pragma once

#include "ipc/bus_client.hpp"

#include <string>

namespace apitoken::cli {

// The one place where a failed call becomes words for the user: what went
// wrong and what to do about it. `subject` names what the call was about
// ("token 0123456789ab", "alice's tokens").
[[nodiscard]] std::string failure_message(const ipc::Outcome& outcome, const std::string& subject);

} // namespace apitoken::cli
