#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace apitoken::daemon {

// What happened, one kind per stable journal MESSAGE_ID (so admins can
// filter with `journalctl MESSAGE_ID=...`).
enum class AuditEvent {
    AuthSucceeded,
    AuthFailed,
    AccessDenied,
    TokenCreated,
    TokenRevoked,
    TokenRenamed,
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
    uid_t caller_uid = static_cast<uid_t>(-1);
    std::string_view result{}; // "success", "failure", "refused", ...
    std::string_view reason{}; // why, for the admin's eyes only
};

// Journal when stderr is connected to it (systemd sets $JOURNAL_STREAM),
// else one line per record on stderr.
class AuditLog {
public:
    explicit AuditLog(bool debug);
    // Plain lines to `sink` and never to the journal (the fuzzer's /dev/null).
    AuditLog(bool debug, std::FILE* sink);

    void record(AuditEvent event, const AuditRecord& fields) const;
    void info(std::string_view message) const;
    void warning(std::string_view message) const;
    void error(std::string_view message) const;
    void debug(std::string_view message) const;
    [[nodiscard]] bool debug_enabled() const noexcept { return debug_; }

private:
    void plain(int priority, std::string_view message) const;

    bool debug_;
    bool journal_;
    std::FILE* sink_ = stderr;
};

} // namespace apitoken::daemon
