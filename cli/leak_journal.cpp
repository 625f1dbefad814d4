#include "cli/leak_journal.hpp"

#include "contract/printable_text.hpp"

#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

namespace apitoken::cli {
namespace {

// A path in the MESSAGE text, which people read with journalctl: quoted,
// with `"` and `\` escaped and whatever could forge a line or drive a
// terminal as \xNN or \u{XXXX} (APITOKEN_FOUND_AT keeps the bytes).
std::string quoted_for_message(std::string_view text) {
    std::string plain;
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            plain += '\\';
        }
        plain += c;
    }
    return "\"" + text::escaped_for_display(plain) + "\"";
}

} // namespace

std::vector<std::string> leak_revoked_fields(std::string_view id, std::string_view path,
                                             std::uint64_t line, uid_t caller) {
    const std::string found_at = std::string(path) + ":" + std::to_string(line);
    // The journal keeps any bytes (a path may hold a newline: sd_journal_sendv
    // sends such a field in its binary form).
    return {
        "MESSAGE_ID=" + std::string(kLeakRevokedMessageId),
        "PRIORITY=" + std::to_string(LOG_NOTICE),
        "SYSLOG_IDENTIFIER=apitokenctl",
        "MESSAGE=token " + std::string(id) + " revoked as leaked: found at " +
            quoted_for_message(found_at) + " by uid " + std::to_string(caller),
        "APITOKEN_TOKEN_ID=" + std::string(id),
        "APITOKEN_FOUND_AT=" + found_at,
        "APITOKEN_CALLER_UID=" + std::to_string(caller),
    };
}

void log_leak_revoked(std::string_view id, std::string_view path, std::uint64_t line,
                      uid_t caller) {
    std::vector<std::string> fields = leak_revoked_fields(id, path, line, caller);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (auto& field : fields) {
        iov.push_back({field.data(), field.size()});
    }
    // Best effort: without a journal (a container) the daemon's record stays.
    static_cast<void>(sd_journal_sendv(iov.data(), static_cast<int>(iov.size())));
}

} // namespace apitoken::cli
