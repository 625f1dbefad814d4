// The API tokens page: lists the logged-in user's tokens (root and
// apitoken-admin members: any user's, and all of them), creates, renames,
// rotates and revokes them. Every value from the daemon reaches the page as
// text (textContent), never as markup. A new token's secret lives only in
// the "shown once" dialog's field and is cleared when the dialog closes.

/* global cockpit */

import { plainError } from "./plain_errors.js";
import { TokenService, creationOptions } from "./tokens_api.js";
import { expiryText, formatTime, lastUsedText, scopeLines, splitList, usesText } from "./token_view.js";

const ALL_USERS = "*";
const $ = (id) => document.getElementById(id);

const service = new TokenService();
const state = {
    me: "",          // the logged-in user's name
    admin: false,    // root or apitoken-admin: may see every user's tokens
    shown: "",       // "" (own tokens), a user name, or ALL_USERS
    maxLifetime: 0,  // seconds, 0 = unlimited
    tokens: [],
    knownUsers: [],  // admins: user names to choose from
};

function nowSeconds() {
    return Math.floor(Date.now() / 1000);
}

function showAlert(prefix, message) {
    $(`${prefix}-alert-text`).textContent = message;
    $(`${prefix}-alert`).hidden = !message;
}

function announce(message) {
    $("page-status").textContent = message;
}

// The `user` argument of a call about the tokens being shown.
function shownUser() {
    return state.shown === ALL_USERS ? "" : state.shown;
}

function cell(row, content, label) {
    const td = row.insertCell();
    td.dataset.label = label; // PatternFly's stacked (narrow) layout shows it
    const lines = Array.isArray(content) ? content : [content];
    lines.forEach((line, i) => {
        if (i > 0) {
            td.append(document.createElement("br"));
        }
        td.append(line);
    });
    return td;
}

function mark(text, kind) {
    const span = document.createElement("span");
    span.className = `pf-c-label pf-m-compact pf-m-${kind} apitoken-mark`;
    span.textContent = text;
    return span;
}

// "Revoke token ci-upload (0123456789ab)", with the owner in the all-users
// view: same-named tokens of different users read apart.
function tokenTitle(token) {
    const owner = state.shown === ALL_USERS && token.user ? ` of ${token.user}` : "";
    return `token “${token.name}” (${token.id})${owner}`;
}

function actionButton(label, token, handler) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pf-c-button pf-m-secondary pf-m-small";
    button.textContent = label;
    button.dataset.action = label.toLowerCase();
    button.setAttribute("aria-label", `${label} ${tokenTitle(token)}`);
    button.addEventListener("click", () => handler(button));
    return button;
}

function nameCell(token) {
    const parts = [token.name];
    if (token.orphaned) {
        parts.push(mark("orphaned", "red"));
    }
    if (token.description) {
        const small = document.createElement("small");
        small.className = "apitoken-description";
        small.textContent = token.description;
        parts.push(small);
    }
    return parts;
}

function renderRow(body, token, now) {
    const row = body.insertRow();
    row.dataset.tokenId = token.id;
    cell(row, nameCell(token), "Name");
    if (state.shown === ALL_USERS) {
        cell(row, token.user, "User");
    }
    const id = document.createElement("code");
    id.className = "apitoken-id";
    id.textContent = token.id;
    cell(row, id, "ID");
    cell(row, formatTime(token.created), "Created");
    const expiry = expiryText(token, now);
    cell(row, expiry.mark ? [expiry.text, mark(expiry.mark, "orange")] : expiry.text, "Expires");
    cell(row, lastUsedText(token), "Last used");
    cell(row, usesText(token), "Uses");
    cell(row, scopeLines(token), "Scope");
    const actions = document.createElement("div");
    actions.className = "apitoken-actions";
    cell(row, actions, "Actions");
    actions.append(
        actionButton("Rename", token, (b) => renameToken(token, b)),
        actionButton("Rotate", token, (b) => rotateToken(token, b)),
        actionButton("Revoke", token, (b) => revokeToken(token, b)));
}

function render() {
    const body = $("token-rows");
    body.replaceChildren();
    const now = nowSeconds();
    document.querySelectorAll(".apitoken-owner-col").forEach((th) => {
        th.hidden = state.shown !== ALL_USERS;
    });
    state.tokens.forEach((token) => renderRow(body, token, now));
    $("no-tokens").hidden = state.tokens.length > 0;
}

function sortTokens(tokens) {
    return tokens.sort((a, b) => (a.user || "").localeCompare(b.user || "") || a.created - b.created);
}

async function reload() {
    try {
        state.tokens = sortTokens(await service.list(shownUser(), state.shown === ALL_USERS));
        showAlert("page", "");
    } catch (error) {
        state.tokens = [];
        showAlert("page", plainError(error));
    }
    render();
    if (state.admin) {
        refreshUserChoices();
    }
}

// Admins choose whose tokens to show: everyone, themselves, or a user seen
// in the all-users view (the inventory is fetched when asked for, not to
// fill this list); the create dialog suggests the same names.
function refreshUserChoices() {
    const names = new Set([state.me, ...state.knownUsers]);
    state.tokens.forEach((token) => token.user && names.add(token.user));
    state.knownUsers = [...names].sort();
    const select = $("user-select");
    const chosen = state.shown || state.me;
    select.replaceChildren(new Option("All users", ALL_USERS));
    state.knownUsers.forEach((name) => select.add(new Option(name === state.me ? `${name} (you)` : name, name)));
    select.value = chosen;
    const list = $("known-users");
    list.replaceChildren(...state.knownUsers.map((name) => new Option(name)));
}

async function detectAdmin() {
    try {
        state.admin = await service.callerIsAdmin();
    } catch {
        state.admin = false; // the first list says what is wrong
    }
    $("user-picker").hidden = !state.admin;
    $("owner-group").hidden = !state.admin;
    if (state.admin) {
        refreshUserChoices();
    }
}

// ---- the "shown once" dialog ------------------------------------------

function showSecret(secret, note, opener) {
    const dialog = $("secret-dialog");
    const field = $("secret-value");
    field.value = secret;
    $("secret-copied").textContent = "";
    $("secret-note").textContent = note;
    dialog.addEventListener("close", () => {
        field.value = "";
        $("secret-copied").textContent = "";
        opener.focus();
    }, { once: true });
    dialog.showModal();
    field.focus();
    field.select();
}

async function copySecret() {
    const field = $("secret-value");
    try {
        if (navigator.clipboard && window.isSecureContext) {
            await navigator.clipboard.writeText(field.value);
        } else {
            field.select();
            if (!document.execCommand("copy")) {
                throw new Error("copy refused");
            }
        }
        $("secret-copied").textContent = "Copied to the clipboard.";
    } catch {
        field.select();
        $("secret-copied").textContent = "Copying is not allowed here: the token is selected, press Ctrl+C.";
    }
}

// ---- creating -----------------------------------------------------------

function expiresFromForm() {
    const choice = $("create-expiry").value;
    if (choice === "default") {
        return { value: undefined };
    }
    if (choice === "never") {
        return { value: 0 };
    }
    if (choice === "date") {
        const text = $("create-expiry-date").value;
        const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
        if (!match) {
            return { error: "Choose the expiry date." };
        }
        const at = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime() / 1000;
        return at > nowSeconds() ? { value: at } : { error: "The expiry date must be in the future." };
    }
    return { value: nowSeconds() + Number(choice) };
}

function readCreateForm() {
    const name = $("create-name").value.trim();
    if (!name) {
        return { error: "Give the token a name.", field: "create-name" };
    }
    const expires = expiresFromForm();
    if (expires.error) {
        return { error: expires.error, field: "create-expiry-date" };
    }
    const usesText = $("create-max-uses").value.trim();
    const maxUses = usesText ? Number(usesText) : 0;
    if (usesText && !(Number.isSafeInteger(maxUses) && maxUses >= 1)) {
        return { error: "Maximum uses must be a whole number of at least 1.", field: "create-max-uses" };
    }
    return {
        owner: state.admin ? $("create-owner").value.trim() : "",
        name,
        options: creationOptions({
            expires: expires.value,
            services: splitList($("create-services").value),
            sources: splitList($("create-sources").value),
            hosts: splitList($("create-hosts").value),
            description: $("create-description").value.trim(),
            maxUses,
        }),
    };
}

function limitExpiryChoices() {
    for (const option of $("create-expiry").options) {
        const seconds = Number(option.value);
        const tooLong = option.value === "never" || (Number.isFinite(seconds) && seconds > state.maxLifetime);
        option.disabled = state.maxLifetime > 0 && tooLong;
    }
}

function openCreateDialog() {
    $("create-form").reset();
    $("expiry-date-group").hidden = true;
    $("create-owner").value = state.shown && state.shown !== ALL_USERS ? state.shown : state.me;
    limitExpiryChoices();
    showAlert("create", "");
    $("create-dialog").showModal();
    $("create-name").focus();
}

async function submitCreate(event) {
    event.preventDefault();
    const form = readCreateForm();
    if (form.error) {
        showAlert("create", form.error);
        $(form.field).focus();
        return;
    }
    const owner = form.owner === state.me ? "" : form.owner;
    const submit = $("create-submit");
    submit.disabled = true;
    try {
        const created = await service.create(owner, form.name, form.options);
        // An admin who made a token for someone else sees it in the list.
        if (state.shown !== ALL_USERS && owner !== state.shown) {
            state.shown = owner;
            state.knownUsers = [...new Set([...state.knownUsers, owner || state.me])];
        }
        $("create-dialog").close();
        showSecret(created.secret, `Token “${created.info.name || form.name}” (${created.id})` +
                   (owner ? ` for ${owner}` : "") + ".", $("new-token"));
        announce(`Token ${form.name} created.`);
        await reload();
    } catch (error) {
        showAlert("create", plainError(error));
    } finally {
        submit.disabled = false;
    }
}

// ---- revoke, rename, rotate ------------------------------------------------

// The confirmation dialog, set up for one action; `run` returns a promise
// and an error keeps the dialog open with the reason.
function confirmAction({ title, text, ok, danger, input, choices, run, opener }) {
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = ok;
    $("confirm-ok").className = `pf-c-button ${danger ? "pf-m-danger" : "pf-m-primary"}`;
    const field = $("confirm-input");
    const select = $("confirm-select");
    $("confirm-input-group").hidden = !input;
    $("confirm-select-group").hidden = !choices;
    $("confirm-input-label").textContent = input ? input.label : "";
    $("confirm-select-label").textContent = choices ? choices.label : "";
    field.value = input ? input.value : "";
    select.replaceChildren(...(choices ? choices.options.map(([value, label]) => new Option(label, value)) : []));
    showAlert("confirm", "");
    const form = dialog.querySelector("form");
    const submit = async (event) => {
        event.preventDefault();
        $("confirm-ok").disabled = true;
        try {
            await run(input ? field.value.trim() : select.value);
            dialog.close();
        } catch (error) {
            showAlert("confirm", plainError(error));
        } finally {
            $("confirm-ok").disabled = false;
        }
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("close", () => {
        form.removeEventListener("submit", submit);
        if (document.activeElement === document.body || !document.activeElement) {
            (opener.isConnected ? opener : $("new-token")).focus();
        }
    }, { once: true });
    dialog.showModal();
    (input ? field : choices ? select : $("confirm-ok")).focus();
}

function ownerOf(token) {
    return token.user && token.user !== state.me ? token.user : shownUser();
}

function revokeToken(token, opener) {
    confirmAction({
        title: `Revoke ${tokenTitle(token)}?`,
        text: "Scripts and services that use it stop working at once. This cannot be undone.",
        ok: "Revoke",
        danger: true,
        opener,
        run: async () => {
            await service.revoke(ownerOf(token), token.id);
            announce(`Token ${token.name} revoked.`);
            await reload();
        },
    });
}

function renameToken(token, opener) {
    confirmAction({
        title: `Rename ${tokenTitle(token)}`,
        text: "The token itself does not change; scripts that use it keep working.",
        ok: "Rename",
        input: { label: "New name", value: token.name },
        opener,
        run: async (name) => {
            if (!name) {
                throw { name: "io.apitoken1.Error.InvalidArgument", message: "the name is empty" };
            }
            await service.rename(ownerOf(token), token.id, name);
            announce(`Token renamed to ${name}.`);
            await reload();
        },
    });
}

function rotateToken(token, opener) {
    confirmAction({
        title: `Rotate ${tokenTitle(token)}?`,
        text: "A new value replaces this token, with the same name and settings. " +
              "The old value can keep working for a while, so scripts can be updated.",
        ok: "Rotate",
        choices: {
            label: "The old value keeps working",
            options: [["0", "Not at all"], ["3600", "For 1 hour"], ["86400", "For 1 day"],
                      ["604800", "For 7 days"]],
        },
        opener,
        run: async (grace) => {
            const rotated = await service.rotate(ownerOf(token), token.id, Number(grace));
            $("confirm-dialog").close();
            showSecret(rotated.secret, `New value of “${token.name}” (${rotated.id}).`, $("new-token"));
            announce(`Token ${token.name} rotated.`);
            await reload();
        },
    });
}

// ---- wiring ---------------------------------------------------------------

function wire() {
    $("new-token").addEventListener("click", openCreateDialog);
    $("reload").addEventListener("click", reload);
    $("create-form").addEventListener("submit", submitCreate);
    $("create-expiry").addEventListener("change", () => {
        $("expiry-date-group").hidden = $("create-expiry").value !== "date";
    });
    $("secret-copy").addEventListener("click", copySecret);
    $("user-select").addEventListener("change", () => {
        const chosen = $("user-select").value;
        state.shown = chosen === state.me ? "" : chosen;
        reload();
    });
    document.querySelectorAll("dialog [data-close]").forEach((button) => {
        button.addEventListener("click", () => button.closest("dialog").close());
    });
}

async function start() {
    wire();
    try {
        state.me = (await cockpit.user()).name;
    } catch {
        state.me = "";
    }
    try {
        state.maxLifetime = await service.maxLifetime();
    } catch {
        state.maxLifetime = 0; // the daemon says so again when it refuses
    }
    await detectAdmin();
    await reload();
    document.body.dataset.ready = "true"; // for tests and scripts: the first list is in
}

start();
