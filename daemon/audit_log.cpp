#include "daemon/audit_log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace apitoken::daemon {
namespace {

struct EventInfo {
    const char* message_id; // generated once with `systemd-id128 new`; never change them
    const char* text;
    int priority;
};

EventInfo info_of(AuditEvent event) {
    switch (event) {
    case AuditEvent::AuthSucceeded:
        return {"3cff5bddd4d049439cfeeb564868db7f", "token authentication succeeded", LOG_INFO};
    case AuditEvent::AuthFailed:
        return {"cc1cccea50464737b6d5be12ce12f25d", "token authentication failed", LOG_NOTICE};
    case AuditEvent::AccessDenied:
        return {"5cb29be5bcf547cea872c936871c6c19", "call refused: access denied", LOG_WARNING};
    case AuditEvent::TokenCreated:
        return {"5ce0101a2f9f4c838790b564a2f5e8dd", "token created", LOG_INFO};
    case AuditEvent::TokenRevoked:
        return {"8913b61d9bcf48ad8ee244e50e6b6f79", "token revoked", LOG_INFO};
    case AuditEvent::TokenRenamed:
        return {"5e00294ae82940edbc3afa8812e45d73", "token renamed", LOG_INFO};
    case AuditEvent::DaemonStarted:
        return {"6d7e6bc6844d4a69acb82f0b7a5a9a6e", "apitokend started", LOG_INFO};
    case AuditEvent::DaemonStopping:
        return {"7940f98e4ffa4b5cac689a4a2c7eba25", "apitokend stopping", LOG_INFO};
    }
    return {"52bea39681974b839e6f5e79ef88bad8", "unknown event", LOG_INFO};
}

// systemd sets JOURNAL_STREAM=dev:inode of the stream it connected to
// stderr; only when stderr still is that stream do we talk to the journal.
bool stderr_is_journal() {
    const char* stream =
        std::getenv("JOURNAL_STREAM"); // NOLINT(concurrency-mt-unsafe): at start-up
    struct stat st {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) {
        return false;
    }
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) == stream;
}

// Everything logged was validated on the way in, but a log line must stay
// one line whatever happens: control characters become '?'.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            c = '?';
        }
    }
    return out;
}

std::vector<std::string> fields_of(AuditEvent event, const AuditRecord& r) {
    const EventInfo info = info_of(event);
    std::vector<std::string> fields{
        std::string("MESSAGE_ID=") + info.message_id,
        "PRIORITY=" + std::to_string(info.priority),
        "SYSLOG_IDENTIFIER=apitokend",
    };
    const auto add = [&](const char* key, std::string_view value) {
        if (!value.empty()) {
            fields.push_back(std::string(key) + "=" + one_line(value));
        }
    };
    add("APITOKEN_USER", r.user);
    add("APITOKEN_TOKEN_ID", r.token_id);
    add("APITOKEN_SERVICE", r.service);
    add("APITOKEN_RHOST", r.rhost);
    if (r.caller_uid != static_cast<uid_t>(-1)) {
        fields.push_back("APITOKEN_CALLER_UID=" + std::to_string(r.caller_uid));
    }
    add("APITOKEN_RESULT", r.result);
    add("APITOKEN_REASON", r.reason);
    return fields;
}

std::string message_of(AuditEvent event, const std::vector<std::string>& fields) {
    std::string message = info_of(event).text;
    for (const auto& field : fields) {
        if (field.starts_with("APITOKEN_")) {
            // APITOKEN_USER=alice -> user=alice
            std::string pair = field.substr(9);
            const auto eq = pair.find('=');
            for (std::size_t i = 0; i < eq; ++i) {
                pair[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(pair[i])));
            }
            message += " " + pair;
        }
    }
    return message;
}

} // namespace

AuditLog::AuditLog(bool debug) : debug_(debug), journal_(stderr_is_journal()) {}

AuditLog::AuditLog(bool debug, std::FILE* sink) : debug_(debug), journal_(false), sink_(sink) {}

void AuditLog::record(AuditEvent event, const AuditRecord& fields) const {
    std::vector<std::string> entries = fields_of(event, fields);
    const std::string message = message_of(event, entries);
    if (!journal_) {
        static_cast<void>(std::fprintf(sink_, "apitokend: %s\n", message.c_str()));
        return;
    }
    entries.push_back("MESSAGE=" + message);
    std::vector<iovec> iov;
    iov.reserve(entries.size());
    for (auto& entry : entries) {
        iov.push_back({entry.data(), entry.size()});
    }
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void AuditLog::plain(int priority, std::string_view message) const {
    const std::string line = one_line(message);
    if (journal_) {
        sd_journal_print(priority, "%s", line.c_str());
    } else {
        static_cast<void>(std::fprintf(sink_, "apitokend: %s\n", line.c_str()));
    }
}

void AuditLog::info(std::string_view message) const {
    plain(LOG_INFO, message);
}
void AuditLog::warning(std::string_view message) const {
    plain(LOG_WARNING, message);
}
void AuditLog::error(std::string_view message) const {
    plain(LOG_ERR, message);
}
void AuditLog::debug(std::string_view message) const {
    if (debug_) {
        plain(LOG_DEBUG, message);
    }
}

} // namespace apitoken::daemon
