#pragma once

// The D-Bus contract of design.md in one place: names, signatures, errors.
// Used by the daemon, the PAM module and the CLI alike.

#include <cstdint>
#include <optional>
#include <string_view>

namespace apitoken::ipc {

inline constexpr const char* kBusName = "io.apitoken1";
inline constexpr const char* kObjectPath = "/io/apitoken1";
inline constexpr const char* kInterface = "io.apitoken1.Manager";

// Methods and their signatures (in -> out). Every `user` accepts "" for "the
// caller". Times are Unix seconds; 0 means "none" (never expires, never used).
//
// Authenticate(s user, s token, s service, s rhost) -> (s token_id)
// CreateToken(s user, s name, x expires, as services)
//     -> (s token_id, s token, x created, x expires)
//     expires: 0 = the configured default lifetime, -1 = never, else a time.
// ListTokens(s user) -> (a(ssxxxtssas) tokens)
//     each: id, name, created, expires, last_used, use_count, last_service,
//           last_rhost, services (empty: any)
// RevokeToken(s user, s token_id) -> ()
// RevokeAllTokens(s user) -> (t revoked)
// RenameToken(s user, s token_id, s name) -> ()
// Properties: Version (s), TokenCount (t), MaxLifetime (x, 0 = unlimited)
namespace method {
inline constexpr const char* kAuthenticate = "Authenticate";
inline constexpr const char* kCreateToken = "CreateToken";
inline constexpr const char* kListTokens = "ListTokens";
inline constexpr const char* kRevokeToken = "RevokeToken";
inline constexpr const char* kRevokeAllTokens = "RevokeAllTokens";
inline constexpr const char* kRenameToken = "RenameToken";
} // namespace method

namespace signature {
inline constexpr const char* kAuthenticateIn = "ssss";
inline constexpr const char* kAuthenticateOut = "s";
inline constexpr const char* kCreateTokenIn = "ssxas";
inline constexpr const char* kCreateTokenOut = "ssxx";
inline constexpr const char* kListTokensIn = "s";
inline constexpr const char* kTokenInfo = "(ssxxxtssas)";
inline constexpr const char* kListTokensOut = "a(ssxxxtssas)";
inline constexpr const char* kRevokeTokenIn = "ss";
inline constexpr const char* kRevokeAllTokensIn = "s";
inline constexpr const char* kRevokeAllTokensOut = "t";
inline constexpr const char* kRenameTokenIn = "sss";
} // namespace signature

inline constexpr std::int64_t kExpiresDefault = 0;
inline constexpr std::int64_t kExpiresNever = -1;

// The errors every side agrees on: io.apitoken1.Error.<Name>.
enum class Error {
    NoSuchUser,
    AuthenticationFailed, // wrong, revoked, expired, out-of-scope or malformed token
    TooManyAttempts,
    AccessDenied,
    InvalidArgument,
    Busy,
    NoSuchToken,
    DuplicateName,
    TooManyTokens,
    Failed, // the daemon could not do it (store full, I/O error); details in its log
};

[[nodiscard]] const char* error_name(Error error) noexcept;
[[nodiscard]] std::optional<Error> error_from_name(std::string_view name) noexcept;

} // namespace apitoken::ipc
