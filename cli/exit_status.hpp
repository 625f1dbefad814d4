#pragma once

namespace apitoken::cli {

// apitokenctl's exit status (design.md): done, refused or failed, usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
// apitokenctl scan: 1 when a live token was found, 2 also when something
// could not be read (and nothing live was found, like grep), and 3 when
// tokens were found but apitokend could not say whether they are live (not
// running, refused, failed).
inline constexpr int kExitScanUnchecked = 3;

} // namespace apitoken::cli
