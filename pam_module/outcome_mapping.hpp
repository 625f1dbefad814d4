#pragma once

#include "ipc/bus_client.hpp"
#include "pam_module/module_options.hpp"

namespace apitoken::pam {

// The return-code table of design.md, in one place: how the daemon's answer
// becomes a PAM code for this stack line's options.
[[nodiscard]] int pam_code_for(const ipc::Outcome& outcome, const ModuleOptions& options) noexcept;

// The same table for pam_get_user(): `rc` is its result, `has_name` whether
// it gave a non-empty name. PAM_SUCCESS means: go on and ask the daemon.
[[nodiscard]] int pam_code_for_get_user(int rc, bool has_name,
                                        const ModuleOptions& options) noexcept;

} // namespace apitoken::pam
