// How a token reads in the table: times, last use, uses and scope, in the
// words apitokenctl list uses. Pure functions of a token (ListTokensEx's
// fields as a plain object) and the current time.

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(seconds) {
    const date = new Date(Number(seconds) * 1000);
    if (!(seconds > 0)) {
        return "";
    }
    // Beyond what Date holds (year 275760): the number, not a broken table.
    return Number.isNaN(date.getTime()) ? String(seconds) : DATE_TIME.format(date);
}

export function expiryText(token, nowSeconds) {
    if (!token.expires) {
        return { text: "Never", mark: "" };
    }
    const text = formatTime(token.expires);
    if (token.expires <= nowSeconds) {
        return { text, mark: "expired" };
    }
    return { text, mark: token.expiring_soon ? "expires soon" : "" };
}

export function lastUsedText(token) {
    if (!token.last_used) {
        return "Never";
    }
    let where = token.last_service ? ` via ${token.last_service}` : "";
    if (token.last_rhost) {
        where += ` from ${token.last_rhost}`;
    }
    if (token.last_host) {
        where += ` on ${token.last_host}`;
    }
    return formatTime(token.last_used) + where;
}

export function usesText(token) {
    const count = Number(token.use_count || 0);
    return token.max_uses ? `${count} of ${token.max_uses}` : String(count);
}

// One line per restriction; an unrestricted token says so.
export function scopeLines(token) {
    const lines = [];
    const list = (values) => (values || []).join(", ");
    lines.push(token.services && token.services.length ? `Services: ${list(token.services)}` : "Any service");
    if (token.sources && token.sources.length) {
        lines.push(`From: ${list(token.sources)}`);
    }
    if (token.hosts && token.hosts.length) {
        lines.push(`Hosts: ${list(token.hosts)}`);
    }
    if (token.grace_until) {
        lines.push(`Old value valid until ${formatTime(token.grace_until)}`);
    }
    if (token.origin && token.origin !== "apitoken") {
        lines.push(`Imported from ${token.origin}`);
    }
    return lines;
}

// Text fields that take several values: spaces or commas between them.
export function splitList(text) {
    return text.split(/[\s,]+/).filter((word) => word.length > 0);
}
