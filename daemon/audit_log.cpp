#include "daemon/audit_log.hpp"

#include "contract/printable_text.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
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
    case AuditEvent::TokenUpdated:
        return {"e5572db3a0c348c994a7e39dba568883", "token updated", LOG_INFO};
    case AuditEvent::TokenRotated:
        return {"b9822c27bb18498e81cd385eb5a426c6", "token rotated", LOG_INFO};
    case AuditEvent::NewSource:
        return {"84f0bb9426e14e3ebbefc309cd4973f1", "token used from a new source", LOG_NOTICE};
    case AuditEvent::ExpiresSoon:
        return {"4896cfc50ee6437e898c1bb4937e2390", "token expires soon", LOG_NOTICE};
    case AuditEvent::TokenRevokedAsLeaked:
        return {"6c223d286d404a97b388e0d1d9882fda", "token revoked as leaked", LOG_WARNING};
    case AuditEvent::TokenImported:
        return {"a1f3e0c2b9d84d5f8e27c4b6d0193a55", "token imported", LOG_NOTICE};
    case AuditEvent::FleetOffline:
        return {"0f3b5e1c7a2d4c8e9b6a1d2e3f405162", "fleet database unreachable: offline mode",
                LOG_WARNING};
    case AuditEvent::FleetOnline:
        return {"2c9d8e7f6a5b4c3d8e1f0a9b8c7d6e5f", "fleet database reachable again", LOG_NOTICE};
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

// Decodes one UTF-8 code point at the front of `text`, strictly (no
// overlongs, no surrogates, nothing above U+10FFFF), and consumes it;
// nullopt (and nothing consumed) when the first byte does not start one.
std::optional<char32_t> next_code_point(std::string_view& text) {
    const auto lead = static_cast<unsigned char>(text.front());
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        text.remove_prefix(1);
        return lead;
    }
    if ((lead & 0xE0U) == 0xC0U) {
        length = 2, value = lead & 0x1FU, minimum = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
        length = 3, value = lead & 0x0FU, minimum = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
        length = 4, value = lead & 0x07U, minimum = 0x10000;
    } else {
        return std::nullopt;
    }
    if (text.size() < length) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[i]);
        if ((next & 0xC0U) != 0x80U) {
            return std::nullopt;
        }
        value = (value << 6U) | (next & 0x3FU);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return std::nullopt;
    }
    text.remove_prefix(length);
    return value;
}

// Everything the rule for stored text refuses (contract/printable_text):
// C1 controls, format and invisible characters that reorder (bidi), hide
// (zero width, default-ignorable) or break (separators) what a reader
// sees, unassigned and private-use code points. One rule for names and logs.
bool hides_or_controls(char32_t c) {
    return !text::is_printable_code_point(c);
}

void append_hex(std::string& out, std::uint32_t value, int digits) {
    constexpr std::string_view kHex = "0123456789ABCDEF";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += kHex[(value >> static_cast<unsigned>(shift)) & 0xFU];
    }
}

// Appends `text` with everything dangerous escaped; `in_quotes` also
// escapes the quote and the backslash (log_value()). A free-text line keeps
// them: it may hold log_value()s already, which must not change.
void append_escaped(std::string& out, std::string_view text, bool in_quotes) {
    while (!text.empty()) {
        const std::string_view before = text;
        const auto c = next_code_point(text);
        if (!c) {
            out += "\\x";
            append_hex(out, static_cast<unsigned char>(before.front()), 2);
            text.remove_prefix(1);
        } else if (*c < 0x20 || *c == 0x7F) {
            out += "\\x";
            append_hex(out, *c, 2);
        } else if (in_quotes && (*c == U'"' || *c == U'\\')) {
            out += '\\';
            out += static_cast<char>(*c);
        } else if (hides_or_controls(*c)) {
            out += "\\u{";
            append_hex(out, *c, 4);
            out += '}';
        } else {
            out += before.substr(0, before.size() - text.size());
        }
    }
}

// A free-text message as one safe line (see AuditLog).
std::string safe_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text, false);
    return out;
}

struct Field {
    const char* journal_name; // APITOKEN_USER
    const char* message_key;  // user
    std::string value;        // raw
};

std::vector<Field> fields_of(const AuditRecord& r) {
    std::vector<Field> fields;
    const auto add = [&](const char* name, const char* key, std::string_view value) {
        if (!value.empty()) {
            fields.push_back({name, key, std::string(value)});
        }
    };
    add("APITOKEN_USER", "user", r.user);
    add("APITOKEN_TOKEN_ID", "token_id", r.token_id);
    add("APITOKEN_SERVICE", "service", r.service);
    add("APITOKEN_RHOST", "rhost", r.rhost);
    add("APITOKEN_RUSER", "ruser", r.ruser);
    if (r.requester_uid >= 0) {
        add("APITOKEN_REQUESTER_UID", "requester_uid", std::to_string(r.requester_uid));
    }
    if (r.caller_uid != static_cast<uid_t>(-1)) {
        add("APITOKEN_CALLER_UID", "caller_uid", std::to_string(r.caller_uid));
    }
    add("APITOKEN_RESULT", "result", r.result);
    add("APITOKEN_REASON", "reason", r.reason);
    return fields;
}

// token authentication failed user="alice" service="sshd" ...: every value
// quoted and escaped, whatever it holds.
std::string message_of(AuditEvent event, const std::vector<Field>& fields) {
    std::string message = info_of(event).text;
    for (const auto& field : fields) {
        message += ' ';
        message += field.message_key;
        message += '=';
        message += log_value(field.value);
    }
    return message;
}

} // namespace

std::string log_value(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 2);
    out += '"';
    append_escaped(out, value, true);
    out += '"';
    return out;
}

AuditLog::AuditLog(bool debug)
    : debug_(debug), journal_(stderr_is_journal()), clock_(std::chrono::steady_clock::now) {}

AuditLog::AuditLog(bool debug, std::FILE* sink, Clock clock)
    : debug_(debug), journal_(false), sink_(sink), clock_(std::move(clock)) {}

void AuditLog::record(AuditEvent event, const AuditRecord& fields) const {
    const std::vector<Field> values = fields_of(fields);
    const std::string message = message_of(event, values);
    if (!journal_) {
        Line kind = Line::Other;
        if (event == AuditEvent::AuthFailed || event == AuditEvent::AccessDenied) {
            kind = Line::Refusal;
        } else if (event == AuditEvent::DaemonStopping) {
            kind = Line::Last;
        }
        write_line(message, kind);
        return;
    }
    // The journal keeps any bytes: its fields get the raw values, for
    // `journalctl APITOKEN_USER=...` to match what the caller sent.
    const EventInfo info = info_of(event);
    std::vector<std::string> entries{
        std::string("MESSAGE_ID=") + info.message_id,
        "PRIORITY=" + std::to_string(info.priority),
        "SYSLOG_IDENTIFIER=apitokend",
        "MESSAGE=" + message,
    };
    for (const auto& field : values) {
        entries.push_back(std::string(field.journal_name) + "=" + field.value);
    }
    std::vector<iovec> iov;
    iov.reserve(entries.size());
    for (auto& entry : entries) {
        iov.push_back({entry.data(), entry.size()});
    }
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void AuditLog::plain(int priority, std::string_view message) const {
    const std::string line = safe_line(message);
    if (journal_) {
        sd_journal_print(priority, "%s", line.c_str());
    } else {
        write_line(line, Line::Other);
    }
}

// The plain sink, through the refusal limit. `line` is safe already.
void AuditLog::write_line(std::string_view line, Line kind) const {
    const std::lock_guard lock(mutex_);
    const auto now = clock_();
    Limiter& l = limiter_;
    const bool refusal = kind == Line::Refusal;
    if (refusal && !l.last.empty() && line == l.last) {
        ++l.repeats;
        if (now - l.last_at >= kRepeatFlush) {
            flush_held_back(now, false);
        }
        return;
    }
    flush_held_back(now, kind == Line::Last || now - l.window_start >= kRefusalWindow);
    l.last.clear();
    if (!refusal) {
        emit(line);
        return;
    }
    if (now - l.window_start >= kRefusalWindow) {
        l.window_start = now;
        l.window_lines = 0;
    }
    if (l.window_lines >= kRefusalBurst) {
        ++l.window_dropped;
        return;
    }
    ++l.window_lines;
    l.last = line;
    l.last_at = now;
    emit(line);
}

// Writes the count of repeats held back, and when the window is over, the
// count of refusals it dropped. Under mutex_.
void AuditLog::flush_held_back(std::chrono::steady_clock::time_point now, bool window_over) const {
    Limiter& l = limiter_;
    if (l.repeats > 0) {
        emit("last message repeated " + std::to_string(l.repeats) +
             (l.repeats == 1 ? " time" : " times"));
        l.repeats = 0;
        l.last_at = now;
    }
    if (window_over && l.window_dropped > 0) {
        emit(std::to_string(l.window_dropped) + " more refusal" +
             (l.window_dropped == 1 ? " was" : "s were") + " not logged (at most " +
             std::to_string(kRefusalBurst) + " refusals are logged in " +
             std::to_string(kRefusalWindow.count()) + " s)");
        l.window_dropped = 0;
    }
}

void AuditLog::emit(std::string_view line) const {
    static_cast<void>(
        std::fprintf(sink_, "apitokend: %.*s\n", static_cast<int>(line.size()), line.data()));
    static_cast<void>(std::fflush(sink_));
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
