#pragma once

// The D-Bus contract of design.md in one place: names, signatures, errors.
// Used by the daemon, the PAM module and the CLI alike.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace apitoken::ipc {

inline constexpr const char* kBusName = "io.apitoken1";
inline constexpr const char* kObjectPath = "/io/apitoken1";
inline constexpr const char* kInterface = "io.apitoken1.Manager";
// The direct connection (design.md): the same object, peer to peer.
inline constexpr const char* kDirectSocketPath = "/run/apitoken/socket";

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
// Properties: Version (s), TokenCount (t), MaxLifetime (x, 0 = unlimited),
//     FleetState (a{sv}), CallerIsAdmin (b: the caller is root or in the
//     admin group, so may see and manage every user's tokens)
//
// Newer methods take and return a{sv} (keys in namespace key below), so
// that fields can be added without new signatures; unknown keys are ignored.
// AuthenticateEx(s user, s token, a{sv} items) -> (s token_id, a{sv} info)
//     items: service, rhost, ruser (PAM_RUSER), requester_uid (u: the real
//     uid of the process the PAM module runs in). The daemon counts failed
//     attempts per source; rhost, service, ruser and requester_uid name the
//     source only when root or the auth group says so.
// ListTokensEx(s user, a{sv} filter) -> (aa{sv} tokens)
//     filter: all_users (b: every user's tokens, root and admins only),
//     expiring_within (x seconds), unused_for (x seconds: not used, or never
//     used, for that long).
//     each token: id, name, user, uid (u), created, expires, last_used (x),
//     use_count (t), last_service, last_rhost, services (as), orphaned (b),
//     description, sources (as), max_uses (t), hosts (as), recent_sources
//     (aa{sv}: rhost, service, first_used, last_used (x), count (t)),
//     origin, origin_id, rotated_from, rotated_to (s, "" = none),
//     grace_until (x), created_by (u), expiring_soon (b).
//     Orphaned tokens (the owner's uid changed, or the owner is gone) are
//     listed for root and admins only (ListTokens lists them for them too,
//     unmarked), never for the user who now has the name.
// CreateTokenEx(s user, s name, a{sv} options) -> (s token_id, s token, a{sv} info)
//     options: expires (x; absent: the default lifetime, 0: never),
//     services, sources (CIDRs), hosts (as), description (s), max_uses (t).
//     info: the new token as ListTokensEx shows it.
// UpdateToken(s user, s token_id, a{sv} changes) -> ()
//     changes: name, description, services, sources, hosts, expires (as
//     above), within the policy; never the secret.
// RotateToken(s user, s token_id, a{sv} options) -> (s token_id, s token, a{sv} info)
//     options: grace (x seconds the old token keeps working; 0: none),
//     expires. The new token keeps the old one's settings.
// RevokeTokens(s user, a{sv} filter) -> (as token_ids)
//     filter: ids (as), unused_for (x), expired (b), all_users (b),
//     dry_run (b: say what would go, revoke nothing).
// LookupTokens(as token_ids) -> (aa{sv} states)
//     for leak scanning, by public id only (at most kMaxLookupIds per
//     call): each answer has id and state (live, revoked, expired,
//     unknown) and, for ids the caller may see (own; root and admins: all),
//     user and name. Anyone else's id answers exactly like one that does
//     not exist: {id, state: unknown}. Counted per caller (throttled).
// RevokeLeakedTokens(as tokens) -> (as token_ids)
//     revokes whole tokens found leaked (at most kMaxLeakedTokens per
//     call): possession of the secret is the proof, checked with Argon2id;
//     answers the ids revoked. A wrong, unknown, malformed or already
//     revoked token is left out, exactly alike. Anyone; throttled.
// ImportTokens(s user, aa{sv} tokens) -> (aa{sv} results)
//     imports foreign tokens (Jenkins API tokens, by their SHA-256) for
//     `user`, all of them or none (at most kMaxImportTokens per call);
//     root and admins only. Each token: origin_id (s, the Jenkins uuid),
//     name, jenkins_hash (s, 64 lowercase hex), created, expires, last_used
//     (x, 0 = none), use_count (t), services (as); dry_run (b) in any entry
//     makes the whole call a dry run (answers, stores nothing). Each result:
//     origin_id, result (import_result below), id and name (the token's
//     apitoken id and name; a clashing name is made unique).
namespace method {
inline constexpr const char* kAuthenticate = "Authenticate";
inline constexpr const char* kCreateToken = "CreateToken";
inline constexpr const char* kListTokens = "ListTokens";
inline constexpr const char* kRevokeToken = "RevokeToken";
inline constexpr const char* kRevokeAllTokens = "RevokeAllTokens";
inline constexpr const char* kRenameToken = "RenameToken";
inline constexpr const char* kAuthenticateEx = "AuthenticateEx";
inline constexpr const char* kListTokensEx = "ListTokensEx";
inline constexpr const char* kCreateTokenEx = "CreateTokenEx";
inline constexpr const char* kUpdateToken = "UpdateToken";
inline constexpr const char* kRotateToken = "RotateToken";
inline constexpr const char* kRevokeTokens = "RevokeTokens";
inline constexpr const char* kLookupTokens = "LookupTokens";
inline constexpr const char* kRevokeLeakedTokens = "RevokeLeakedTokens";
inline constexpr const char* kImportTokens = "ImportTokens";
} // namespace method

namespace key {
inline constexpr const char* kService = "service";
inline constexpr const char* kRhost = "rhost";
inline constexpr const char* kRuser = "ruser";
inline constexpr const char* kRequesterUid = "requester_uid";
inline constexpr const char* kId = "id";
inline constexpr const char* kName = "name";
inline constexpr const char* kUser = "user";
inline constexpr const char* kUid = "uid";
inline constexpr const char* kCreated = "created";
inline constexpr const char* kExpires = "expires";
inline constexpr const char* kLastUsed = "last_used";
inline constexpr const char* kUseCount = "use_count";
inline constexpr const char* kLastService = "last_service";
inline constexpr const char* kLastRhost = "last_rhost";
inline constexpr const char* kLastHost = "last_host"; // fleet mode: the host of the last use
inline constexpr const char* kServices = "services";
inline constexpr const char* kOrphaned = "orphaned";
inline constexpr const char* kDescription = "description";
inline constexpr const char* kSources = "sources";
inline constexpr const char* kMaxUses = "max_uses";
inline constexpr const char* kHosts = "hosts";
inline constexpr const char* kRecentSources = "recent_sources";
inline constexpr const char* kFirstUsed = "first_used";
inline constexpr const char* kCount = "count";
inline constexpr const char* kOrigin = "origin";
inline constexpr const char* kOriginId = "origin_id";
inline constexpr const char* kRotatedFrom = "rotated_from";
inline constexpr const char* kRotatedTo = "rotated_to";
inline constexpr const char* kGraceUntil = "grace_until";
inline constexpr const char* kCreatedBy = "created_by";
inline constexpr const char* kExpiringSoon = "expiring_soon";
inline constexpr const char* kAllUsers = "all_users";
inline constexpr const char* kExpiringWithin = "expiring_within";
inline constexpr const char* kUnusedFor = "unused_for";
inline constexpr const char* kGrace = "grace";
inline constexpr const char* kIds = "ids";
inline constexpr const char* kExpired = "expired";
inline constexpr const char* kDryRun = "dry_run";
inline constexpr const char* kState = "state";
inline constexpr const char* kJenkinsHash = "jenkins_hash";
inline constexpr const char* kResult = "result";
} // namespace key

// ImportTokens' results.
namespace import_result {
inline constexpr const char* kImported = "imported";
// This origin_id was imported before (the token may have been revoked
// since: a second run never brings it back).
inline constexpr const char* kAlreadyImported = "already_imported";
} // namespace import_result

// LookupTokens' states.
namespace token_state {
inline constexpr const char* kLive = "live";
inline constexpr const char* kRevoked = "revoked";
inline constexpr const char* kExpired = "expired";
inline constexpr const char* kUnknown = "unknown";
} // namespace token_state

// Per call: LookupTokens is a store read per id, RevokeLeakedTokens an
// Argon2id verify per token.
inline constexpr std::size_t kMaxLookupIds = 1024;
inline constexpr std::size_t kMaxLeakedTokens = 16;
// ImportTokens: one Jenkins user's tokens in one call.
inline constexpr std::size_t kMaxImportTokens = 1024;
// The largest use limit (max_uses): beyond it a limit means nothing (a use
// a second for 30 years) and is most likely a typing error; 0 is no limit.
inline constexpr std::uint64_t kMaxUsesLimit = 1'000'000'000;

namespace signature {
inline constexpr const char* kAuthenticateIn = "ssss";
inline constexpr const char* kAuthenticateOut = "s";
inline constexpr const char* kCreateTokenIn = "ssxas";
inline constexpr const char* kCreateTokenOut = "ssxx";
inline constexpr const char* kListTokensIn = "s";
inline constexpr const char* kTokenInfoFields = "ssxxxtssas";
inline constexpr const char* kTokenInfo = "(ssxxxtssas)";
inline constexpr const char* kListTokensOut = "a(ssxxxtssas)";
inline constexpr const char* kRevokeTokenIn = "ss";
inline constexpr const char* kRevokeAllTokensIn = "s";
inline constexpr const char* kRevokeAllTokensOut = "t";
inline constexpr const char* kRenameTokenIn = "sss";
inline constexpr const char* kAuthenticateExIn = "ssa{sv}";
inline constexpr const char* kAuthenticateExOut = "sa{sv}";
inline constexpr const char* kListTokensExIn = "sa{sv}";
inline constexpr const char* kListTokensExOut = "aa{sv}";
inline constexpr const char* kCreateTokenExIn = "ssa{sv}";
inline constexpr const char* kCreateTokenExOut = "ssa{sv}";
inline constexpr const char* kUpdateTokenIn = "ssa{sv}";
inline constexpr const char* kRotateTokenIn = "ssa{sv}";
inline constexpr const char* kRotateTokenOut = "ssa{sv}";
inline constexpr const char* kRevokeTokensIn = "sa{sv}";
inline constexpr const char* kRevokeTokensOut = "as";
inline constexpr const char* kLookupTokensIn = "as";
inline constexpr const char* kLookupTokensOut = "aa{sv}";
inline constexpr const char* kRevokeLeakedTokensIn = "as";
inline constexpr const char* kRevokeLeakedTokensOut = "as";
inline constexpr const char* kImportTokensIn = "saa{sv}";
inline constexpr const char* kImportTokensOut = "aa{sv}";
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
