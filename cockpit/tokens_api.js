// io.apitoken1.Manager as the logged-in user, through Cockpit's bridge:
// the daemon's own authorization (self, root, apitoken-admin) decides.
// a{sv} arrive as {key: {t, v}}; they leave here as plain objects.

/* global cockpit */

const PATH = "/io/apitoken1";
const IFACE = "io.apitoken1.Manager";

function plain(variants) {
    const out = {};
    for (const [key, variant] of Object.entries(variants || {})) {
        out[key] = variant && typeof variant === "object" && "v" in variant ? variant.v : variant;
    }
    if (Array.isArray(out.recent_sources)) {
        out.recent_sources = out.recent_sources.map(plain);
    }
    return out;
}

export class TokenService {
    constructor() {
        // No "superuser": the call runs as the user who logged in to Cockpit.
        this.client = cockpit.dbus("io.apitoken1", { bus: "system" });
    }

    call(method, signature, args) {
        return this.client.call(PATH, IFACE, method, args, { type: signature });
    }

    async list(user, allUsers) {
        const filter = allUsers ? { all_users: { t: "b", v: true } } : {};
        const [tokens] = await this.call("ListTokensEx", "sa{sv}", [user, filter]);
        return tokens.map(plain);
    }

    // The secret comes back to the caller once and is not kept here.
    async create(user, name, options) {
        const [id, secret, info] = await this.call("CreateTokenEx", "ssa{sv}", [user, name, options]);
        return { id, secret, info: plain(info) };
    }

    async rotate(user, id, graceSeconds) {
        const options = { grace: { t: "x", v: graceSeconds } };
        const [newId, secret, info] = await this.call("RotateToken", "ssa{sv}", [user, id, options]);
        return { id: newId, secret, info: plain(info) };
    }

    revoke(user, id) {
        return this.call("RevokeToken", "ss", [user, id]);
    }

    rename(user, id, name) {
        return this.call("RenameToken", "sss", [user, id, name]);
    }

    async property(name) {
        const [value] = await this.client.call(PATH, "org.freedesktop.DBus.Properties", "Get",
                                               [IFACE, name], { type: "ss" });
        return value.v;
    }

    async maxLifetime() {
        return Number(await this.property("MaxLifetime")) || 0;
    }

    // Root or the admin group, as the daemon decides it (no refused call).
    async callerIsAdmin() {
        return (await this.property("CallerIsAdmin")) === true;
    }
}

// CreateTokenEx's options from the dialog's fields (already checked).
export function creationOptions(fields) {
    const options = {};
    if (fields.expires !== undefined) {
        options.expires = { t: "x", v: fields.expires };
    }
    for (const key of ["services", "sources", "hosts"]) {
        if (fields[key].length > 0) {
            options[key] = { t: "as", v: fields[key] };
        }
    }
    if (fields.description) {
        options.description = { t: "s", v: fields.description };
    }
    if (fields.maxUses) {
        options.max_uses = { t: "t", v: fields.maxUses };
    }
    return options;
}
