#pragma once

namespace apitoken::cli {

// apitokenctl's exit status (design.md): done, refused or failed, usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

} // namespace apitoken::cli
