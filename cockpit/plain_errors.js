// What the page says when a call fails: plain words for every error the
// daemon, the bus or Cockpit can give, never a raw D-Bus error name. Where
// the daemon's own message carries the specifics (which name clashes, which
// limit), it follows our sentence; it is plain text written for people.

const DAEMON_PREFIX = "io.apitoken1.Error.";

const NOT_RUNNING =
    "The token service (apitokend) is not running. An administrator can start it with " +
    "“systemctl start apitokend”.";

const BY_DAEMON_ERROR = {
    DuplicateName: { text: "A token with this name already exists. Choose another name.", detail: false },
    TooManyTokens: { text: "No more tokens can be created for this user: revoke one that is no longer needed first.", detail: true },
    InvalidArgument: { text: "The token service refused these settings:", detail: true },
    AccessDenied: {
        text: "You may not do this. Only the token's owner, root and members of the " +
              "apitoken-admin group manage a user's tokens.",
        detail: false,
    },
    NoSuchToken: { text: "This token no longer exists; it may have been revoked elsewhere.", detail: false },
    NoSuchUser: { text: "There is no such user on this host.", detail: false },
    Busy: { text: "The token service is busy. Try again in a moment.", detail: false },
    TooManyAttempts: { text: "Too many attempts. Wait a little and try again.", detail: false },
    AuthenticationFailed: { text: "The token was not accepted.", detail: false },
    Failed: {
        text: "The token service could not complete this; its log (journalctl -u apitokend) says why:",
        detail: true,
    },
};

const BY_BUS_ERROR = {
    "org.freedesktop.DBus.Error.ServiceUnknown": NOT_RUNNING,
    "org.freedesktop.DBus.Error.NameHasNoOwner": NOT_RUNNING,
    "org.freedesktop.DBus.Error.NoReply": "The token service did not answer in time. Try again in a moment.",
    "org.freedesktop.DBus.Error.Timeout": "The token service did not answer in time. Try again in a moment.",
    "org.freedesktop.DBus.Error.UnknownMethod":
        "The token service on this host is older than this page and cannot do this. Upgrade apitoken.",
    "org.freedesktop.DBus.Error.AccessDenied": "The system bus did not let this page reach the token service.",
};

// Cockpit's own problem codes (the bridge or the connection failed).
const BY_COCKPIT_PROBLEM = {
    "not-found": NOT_RUNNING,
    "disconnected": "The connection to this host was lost. Reload the page.",
    "terminated": "The connection to this host was closed. Reload the page.",
    "access-denied": "You may not do this.",
};

// Our daemon's messages are short, single-line and printable; anything else
// is not shown (a hostile or broken peer must not write into the page).
function printable(message) {
    if (typeof message !== "string" || message.length === 0 || message.length > 300) {
        return "";
    }
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(message)
        ? "" : message;
}

export function plainError(error) {
    const name = error && typeof error.name === "string" ? error.name : "";
    if (name.startsWith(DAEMON_PREFIX)) {
        const known = BY_DAEMON_ERROR[name.slice(DAEMON_PREFIX.length)];
        if (known) {
            const detail = known.detail ? printable(error.message) : "";
            return detail ? `${known.text} ${detail.replace(/\.$/, "")}.` : known.text;
        }
    }
    if (BY_BUS_ERROR[name]) {
        return BY_BUS_ERROR[name];
    }
    const problem = error && typeof error.problem === "string" ? error.problem : "";
    if (BY_COCKPIT_PROBLEM[problem]) {
        return BY_COCKPIT_PROBLEM[problem];
    }
    return "Something went wrong talking to the token service. Reload the page and try again.";
}
