#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// A value for a log message, quoted and escaped: "value", with `"` and `\`
// as \" and \\, and as \xNN or \u{XXXX} whatever could forge or hide text
// or drive the reader's terminal:
//   \xNN      C0 controls (newline, ESC, ...), DEL, and each byte that is
//             not part of valid UTF-8 (overlongs and surrogates included);
//   \u{XXXX}  every other code point that the rule for stored text refuses
//             (text::is_printable_code_point): C1 controls (U+009B is a
//             terminal's CSI), the format and invisible characters that
//             reorder, hide or break text (bidi overrides, zero widths,
//             separators, default-ignorables), unassigned and private use.
// Everything else (spaces, '=', printable UTF-8) stays as it is, inside the
// quotes, so `user="x result=success"` cannot pass for a field of its own.
// Every value a caller (or a remote login, through PAM) can influence goes
// into a message through this: AuditLog::record() does it for its fields;
// free-text messages do it themselves, e.g.
//   log.debug("create: user " + log_value(user) + ", name " + log_value(name));
[[nodiscard]] std::string log_value(std::string_view value);

// What happened, one kind per stable journal MESSAGE_ID (so admins can
// filter with `journalctl MESSAGE_ID=...`).
enum class AuditEvent {
    AuthSucceeded,
    AuthFailed,
    AccessDenied,
    TokenCreated,
    TokenRevoked,
    TokenRenamed,
    TokenUpdated,
    TokenRotated,
    // A token's first use from a (rhost, service) pair not among its recent
    // sources: something an admin may want to alert on.
    NewSource,
    // A token entered the expiry_warning window (once per token).
    ExpiresSoon,
    // Someone presented a whole live token to RevokeLeakedTokens.
    TokenRevokedAsLeaked,
    // A token imported from Jenkins (ImportTokens).
    TokenImported,
    // Fleet mode: this host lost / regained the fleet database.
    FleetOffline,
    FleetOnline,
    DaemonStarted,
    DaemonStopping,
};

// The structured fields of an audit record. Never a token or a secret:
// there is deliberately no field that could hold one.
struct AuditRecord {
    std::string_view user{};
    std::string_view token_id{};
    std::string_view service{};
    std::string_view rhost{};
    // Who asked, as the service said (PAM_RUSER, the real uid of its
    // process): recorded as claims; they name a throttle source only when
    // the caller is root or in the auth group.
    std::string_view ruser{};
    std::int64_t requester_uid = -1;
    uid_t caller_uid = static_cast<uid_t>(-1);
    std::string_view result{}; // "success", "failure", "refused", ...
    std::string_view reason{}; // why, for the admin's eyes only
};

// Journal when stderr is connected to it (systemd sets $JOURNAL_STREAM),
// else one line per record on stderr.
//
// The journal gets the raw values as APITOKEN_* fields (it stores any
// bytes) and a MESSAGE of `key="value"` pairs made with log_value(). The
// plain sink gets that MESSAGE; a free-text message (info() ... debug())
// has its dangerous characters escaped as log_value() does, without quotes.
//
// The plain sink has no journald rate limit in front of it, so refusals
// (AuthFailed, AccessDenied) are limited there: a refusal identical to the
// previous one is counted, not written ("last message repeated N times"
// when another line comes, or with the next one after kRepeatFlush), and
// at most kRefusalBurst refusal lines are written per kRefusalWindow (the
// rest counted and summarized in one line with the first line written
// after the window, or with "apitokend stopping").
class AuditLog {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    static constexpr std::size_t kRefusalBurst = 100;
    static constexpr std::chrono::seconds kRefusalWindow{10};
    static constexpr std::chrono::seconds kRepeatFlush{10};

    explicit AuditLog(bool debug);
    // Plain lines to `sink` and never to the journal (tests, the fuzzer's
    // /dev/null); `clock` times the refusal limit (tests pass their own).
    AuditLog(bool debug, std::FILE* sink, Clock clock = std::chrono::steady_clock::now);
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;
    AuditLog(AuditLog&&) = delete;
    AuditLog& operator=(AuditLog&&) = delete;
    ~AuditLog() = default;

    void record(AuditEvent event, const AuditRecord& fields) const;
    void info(std::string_view message) const;
    void warning(std::string_view message) const;
    void error(std::string_view message) const;
    void debug(std::string_view message) const;
    [[nodiscard]] bool debug_enabled() const noexcept { return debug_; }

private:
    // The plain sink's refusal limit; guarded by mutex_.
    struct Limiter {
        std::string last; // the last refusal written; "" after any other line
        std::size_t repeats = 0;
        std::chrono::steady_clock::time_point last_at{};
        std::chrono::steady_clock::time_point window_start{};
        std::size_t window_lines = 0;
        std::size_t window_dropped = 0;
    };

    void plain(int priority, std::string_view message) const;
    // Refusals are limited; the last line (DaemonStopping) first writes
    // all that the limit holds back.
    enum class Line { Refusal, Other, Last };
    void write_line(std::string_view line, Line kind) const;
    void flush_held_back(std::chrono::steady_clock::time_point now, bool window_over) const;
    void emit(std::string_view line) const;

    bool debug_;
    bool journal_;
    std::FILE* sink_ = stderr;
    Clock clock_;
    mutable std::mutex mutex_;
    mutable Limiter limiter_;
};

} // namespace apitoken::daemon
