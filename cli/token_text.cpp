#include "cli/token_text.hpp"

#include "cli/output.hpp"
#include "cli/time_text.hpp"
#include "ipc/bus_api.hpp"

namespace apitoken::cli {
namespace {

// "2027-01-31T12:00:00Z (in 29 days)".
std::string moment(std::int64_t when, std::int64_t now) {
    return rfc3339(when) + " (" + relative_time(when, now) + ")";
}

std::string quoted(const std::string& text) {
    return "\"" + shown(text) + "\"";
}

// "alice (uid 61001)", or "uid 61001" when the name is not known here.
std::string uid_text(std::uint32_t uid, const std::string& name) {
    const std::string number = "uid " + std::to_string(uid);
    return name.empty() ? number : shown(name) + " (" + number + ")";
}

std::string expires_line(const ipc::TokenInfo& t, std::int64_t now) {
    if (t.expires == 0) {
        return "never";
    }
    if (t.expires <= now) {
        return rfc3339(t.expires) + " (expired)";
    }
    return rfc3339(t.expires) + " (" + relative_time(t.expires, now) +
           (t.expiring_soon ? ", soon" : "") + ")";
}

std::string last_used_line(const ipc::TokenInfo& t, std::int64_t now) {
    if (t.last_used == 0) {
        return "never";
    }
    std::string line = moment(t.last_used, now);
    if (!t.last_service.empty()) {
        line += ", service " + shown(t.last_service);
    }
    if (!t.last_rhost.empty()) {
        line += ", from " + shown(t.last_rhost);
    }
    if (!t.last_host.empty()) {
        line += ", on host " + shown(t.last_host);
    }
    return line;
}

std::string uses_line(const ipc::TokenInfo& t) {
    const std::string count = std::to_string(t.use_count);
    if (t.max_uses == 0) {
        return count + " (no limit)";
    }
    return count + " of " + std::to_string(t.max_uses) + (t.max_uses == 1 ? " (one-time)" : "");
}

std::string origin_line(const ipc::TokenInfo& t) {
    if (t.origin.empty() || t.origin == "apitoken") {
        return "apitoken";
    }
    std::string line = shown(t.origin) + " (imported";
    if (!t.origin_id.empty()) {
        line += ", id " + shown(t.origin_id);
    }
    return line + ")";
}

std::string rotated_to_line(const ipc::TokenInfo& t, std::int64_t now) {
    if (t.grace_until == 0) {
        return t.rotated_to;
    }
    if (t.grace_until <= now) {
        return t.rotated_to + ", stopped working " + moment(t.grace_until, now);
    }
    return t.rotated_to + ", works until " + moment(t.grace_until, now);
}

// Who made the token: the owner, or someone else (root or an admin) for them.
std::string created_by_line(const ipc::TokenInfo& t, const UserNameOf& user_name_of) {
    const std::string creator = uid_text(t.created_by, user_name_of(t.created_by));
    if (t.created_by == t.uid) {
        return creator + ", the owner";
    }
    return creator + ", an admin, for " + shown(t.user);
}

std::string expiry_value(std::int64_t expires) {
    return expires == 0 ? "never" : rfc3339(expires);
}

} // namespace

std::string list_text(const std::vector<std::string>& entries, const std::string& none) {
    if (entries.empty()) {
        return none;
    }
    std::string out;
    for (const auto& entry : entries) {
        out += (out.empty() ? "" : ",") + shown(entry);
    }
    return out;
}

std::string name_cell(const ipc::TokenInfo& t) {
    std::string cell = shown(t.name);
    if (t.orphaned) {
        cell += " (orphaned)";
    }
    if (!t.origin.empty() && t.origin != "apitoken") {
        cell += " (" + shown(t.origin) + ")";
    }
    return cell;
}

std::string expires_cell(const ipc::TokenInfo& t, std::int64_t now) {
    if (!t.rotated_to.empty()) {
        return t.grace_until == 0 ? "rotated" : "rotated, until " + local_time_text(t.grace_until);
    }
    const std::string text = expiry_text(t.expires, now);
    return t.expiring_soon && t.expires > now ? text + " (soon)" : text;
}

std::string uses_cell(const ipc::TokenInfo& t) {
    const std::string count = std::to_string(t.use_count);
    return t.max_uses == 0 ? count : count + "/" + std::to_string(t.max_uses);
}

std::vector<std::string> list_header(bool with_owner) {
    std::vector<std::string> header{"ID",        "NAME", "CREATED", "EXPIRES",
                                    "LAST USED", "USES", "SERVICES"};
    if (with_owner) {
        header.insert(header.begin() + 1, "OWNER");
    }
    return header;
}

std::vector<std::string> list_row(const ipc::TokenInfo& t, std::int64_t now, bool with_owner) {
    std::vector<std::string> row{t.id,
                                 name_cell(t),
                                 relative_time(t.created, now),
                                 expires_cell(t, now),
                                 t.last_used == 0 ? "never" : relative_time(t.last_used, now),
                                 uses_cell(t),
                                 list_text(t.services)};
    if (with_owner) {
        row.insert(row.begin() + 1, t.user.empty() ? "?" : shown(t.user));
    }
    return row;
}

std::vector<std::vector<std::string>> show_rows(const ipc::TokenInfo& t, std::int64_t now,
                                                const UserNameOf& user_name_of) {
    std::vector<std::vector<std::string>> rows{{"id:", t.id}, {"name:", quoted(t.name)}};
    const bool owner_known = !t.user.empty(); // ListTokensEx names it; ListTokens does not
    if (owner_known) {
        rows.push_back({"owner:", uid_text(t.uid, t.user)});
    }
    rows.push_back({"description:", t.description.empty() ? "(none)" : quoted(t.description)});
    rows.push_back({"created:", moment(t.created, now)});
    if (owner_known) {
        rows.push_back({"created by:", created_by_line(t, user_name_of)});
    }
    rows.push_back({"expires:", expires_line(t, now)});
    rows.push_back({"last used:", last_used_line(t, now)});
    rows.push_back({"uses:", uses_line(t)});
    rows.push_back({"services:", list_text(t.services, "any")});
    rows.push_back({"sources:", list_text(t.sources, "any")});
    rows.push_back({"hosts:", list_text(t.hosts, "every host")});
    rows.push_back({"origin:", origin_line(t)});
    if (!t.rotated_from.empty()) {
        rows.push_back({"rotated from:", t.rotated_from});
    }
    if (!t.rotated_to.empty()) {
        rows.push_back({"rotated to:", rotated_to_line(t, now)});
    }
    if (t.orphaned) {
        rows.push_back({"orphaned:", "yes: the owner's account is gone or has another uid now; "
                                     "this token authenticates no one"});
    }
    rows.push_back({"recent sources:", t.recent_sources.empty() ? "none" : ""});
    return rows;
}

std::vector<std::vector<std::string>> recent_sources_rows(const ipc::TokenInfo& t,
                                                          std::int64_t now) {
    std::vector<std::vector<std::string>> rows{
        {"  RHOST", "SERVICE", "FIRST USED", "LAST USED", "COUNT"}};
    for (const auto& source : t.recent_sources) {
        rows.push_back({"  " + (source.rhost.empty() ? "(local)" : shown(source.rhost)),
                        source.service.empty() ? "-" : shown(source.service),
                        relative_time(source.first_used, now), relative_time(source.last_used, now),
                        std::to_string(source.count)});
    }
    return rows;
}

std::vector<Change> changes_between(const ipc::TokenInfo& before, const ipc::TokenInfo& after) {
    namespace key = ipc::key;
    std::vector<Change> changes;
    const auto compare = [&](const char* name, const std::string& was, const std::string& is) {
        if (was != is) {
            changes.push_back({name, was, is});
        }
    };
    compare(key::kName, quoted(before.name), quoted(after.name));
    compare(key::kDescription, quoted(before.description), quoted(after.description));
    compare(key::kServices, list_text(before.services), list_text(after.services));
    compare(key::kSources, list_text(before.sources), list_text(after.sources));
    compare(key::kHosts, list_text(before.hosts, "every host"),
            list_text(after.hosts, "every host"));
    compare(key::kExpires, expiry_value(before.expires), expiry_value(after.expires));
    return changes;
}

} // namespace apitoken::cli
