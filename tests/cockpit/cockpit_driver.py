#!/usr/bin/python3
"""Drives the apitoken Cockpit page in headless chromium (selenium over
chromium-driver, both from Debian) for cockpit_test.cpp.

Each scenario logs in through Cockpit's real login page, opens "API tokens"
from the shell and asserts what a user sees and can do. It prints "ID <id>"
for the tokens it made, so that the C++ test can check the daemon's side.
Exit 0: every assertion held; 1: one failed (the reason on stderr).
Every wait is for an event on the page, with a deadline generous enough for
a loaded machine.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

PATIENCE = 90  # seconds for anything the page waits on (a busy machine)
PAGE_FRAME = "cockpit1:localhost/apitoken"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Page:
    """The browser, logged in to Cockpit, inside the API tokens page."""

    def __init__(self, args):
        self.args = args
        os.makedirs(args.work, exist_ok=True)
        self.profile = tempfile.mkdtemp(dir=args.work)
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", "--lang=en-US",
                     "--window-size=1280,900", "--user-data-dir=" + self.profile):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        self.driver.set_script_timeout(PATIENCE)
        self.wait = WebDriverWait(self.driver, PATIENCE)
        self.console = []

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # ---- getting there --------------------------------------------------

    def login(self):
        self.driver.get(self.args.url + "/")
        self.wait.until(EC.visibility_of_element_located((By.ID, "login-user-input")))
        self.driver.find_element(By.ID, "login-user-input").send_keys(self.args.user)
        with open(self.args.password_file, encoding="ascii") as secret:
            self.driver.find_element(By.ID, "login-password-input").send_keys(secret.read())
        self.driver.find_element(By.ID, "login-button").click()
        # The shell's navigation lists the page (manifest.json's menu entry).
        self.wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "a[href='/apitoken'], a[href$='/apitoken']")))

    def start(self, attempts=2):
        """Logs in and opens the page. Cockpit's own bridge has crashed at
        a login on a loaded machine (SIGSEGV in cockpit-ws's log) and the
        page then never loads: a fresh login once more, said on stdout, so
        that a page of ours that never loads still fails."""
        for attempt in range(1, attempts + 1):
            try:
                self.login()
                self.open_tokens()
                return
            except TimeoutException:
                if attempt == attempts:
                    raise Failure("the page did not load after a fresh login either") from None
                print("RETRY: the page did not load; logging in again", flush=True)
                self.driver.switch_to.default_content()
                self.driver.delete_all_cookies()

    def open_tokens(self, ready=True):
        self.driver.switch_to.default_content()
        self.driver.get(self.args.url + "/apitoken")
        self.wait.until(EC.frame_to_be_available_and_switch_to_it((By.NAME, PAGE_FRAME)))
        if ready:
            self.wait.until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))

    def wait_row_text(self, name, needle):
        """Reloads the list until the token's row shows `needle`."""
        def shows():
            row = self.row(name)
            if row and needle in row["text"]:
                return True
            self.click("reload")
            return False
        self.wait_for(shows, f"{needle!r} in the row of {name}")
        return self.row(name)

    # ---- reading and acting -----------------------------------------------

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_for(self, predicate, what="the page"):
        try:
            self.wait.until(lambda d: predicate())
        except TimeoutException:
            raise Failure(f"timed out waiting for {what}") from None

    def el(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def click(self, element_id):
        self.el(element_id).click()

    def visible(self, element_id):
        return self.el(element_id).is_displayed()

    def text(self, element_id):
        return self.el(element_id).text

    def rows(self):
        return self.js("""return Array.from(document.querySelectorAll('#token-rows tr')).map(
            r => ({id: r.dataset.tokenId, text: r.innerText}))""")

    def row(self, name):
        matches = [r for r in self.rows() if r["text"].split("\n")[0].strip() == name or
                   r["text"].startswith(name + "\n") or r["text"].startswith(name + "\t")]
        return matches[0] if matches else None

    def wait_row(self, name, present=True):
        self.wait_for(lambda: (self.row(name) is not None) == present,
                      f"token {name} to {'appear' if present else 'disappear'}")
        return self.row(name)

    def wait_for_row_id(self, name, other_than):
        self.wait_for(lambda: (self.row(name) or {}).get("id", other_than) != other_than,
                      f"the new id of {name}")
        return self.row(name)

    def row_button(self, name, action, user=None):
        """The action's button in the row of the token `name` (of `user`)."""
        button = self.js("""const [name, user, action] = arguments;
            const row = Array.from(document.querySelectorAll('#token-rows tr')).find(
                r => r.cells[0].firstChild.textContent === name &&
                     (!user || r.innerText.includes(user)));
            return row ? row.querySelector(`button[data-action="${action}"]`) : null;""",
                         name, user, action.lower())
        check(button is not None, f"no {action} button for token {name}")
        return button

    def create(self, name, services="", owner=None, expect_error=None):
        self.click("new-token")
        self.wait.until(EC.visibility_of_element_located((By.ID, "create-name")))
        if owner is not None:
            field = self.el("create-owner")
            field.clear()
            field.send_keys(owner)
        self.el("create-name").send_keys(name)
        if services:
            self.el("create-services").send_keys(services)
        Select(self.el("create-expiry")).select_by_visible_text("In 30 days")
        self.click("create-submit")
        if expect_error:
            self.wait.until(EC.visibility_of_element_located((By.ID, "create-alert")))
            message = self.text("create-alert-text")
            self.driver.find_element(By.CSS_SELECTOR, "#create-dialog [data-close]").click()
            return message
        return self.read_secret()

    def read_secret(self):
        self.wait.until(EC.visibility_of_element_located((By.ID, "secret-value")))
        secret = self.el("secret-value").get_attribute("value")
        check(secret, "the shown-once dialog shows no token")
        check("cannot be shown again" in self.text("secret-warning"),
              "the shown-once dialog does not warn that the token cannot be shown again")
        return secret

    def close_secret(self):
        self.driver.find_element(By.CSS_SELECTOR, "#secret-dialog [data-close]").click()
        self.wait.until(EC.invisibility_of_element_located((By.ID, "secret-dialog")))

    def confirm(self, value=None, choice=None):
        self.wait.until(EC.visibility_of_element_located((By.ID, "confirm-ok")))
        if value is not None:
            field = self.el("confirm-input")
            field.clear()
            field.send_keys(value)
        if choice is not None:
            Select(self.el("confirm-select")).select_by_visible_text(choice)
        self.click("confirm-ok")

    def forged_call(self, method, signature, args):
        """A call typed into the browser console: cockpit.dbus() directly."""
        return self.driver.execute_async_script("""
            const [method, signature, args, done] = arguments;
            cockpit.dbus("io.apitoken1", {bus: "system"})
                .call("/io/apitoken1", "io.apitoken1.Manager", method, args, {type: signature})
                .then(reply => done({ok: true, reply: JSON.stringify(reply)}),
                      error => done({ok: false, name: error.name || error.problem || String(error)}));
            """, method, signature, args)

    def screenshot(self, name):
        os.makedirs(self.args.screenshots, exist_ok=True)
        self.driver.save_screenshot(os.path.join(self.args.screenshots, name))

    # ---- where a secret must not be --------------------------------------

    def collect_console(self):
        self.console += [entry.get("message", "") for entry in self.driver.get_log("browser")]

    def assert_secret_gone(self, secret):
        """Not in the URL, storage, any field, the markup or the console."""
        for frame in (None, PAGE_FRAME):
            self.driver.switch_to.default_content()
            if frame:
                self.driver.switch_to.frame(frame)
            where = self.js("""return [location.href,
                JSON.stringify(Object.entries(localStorage)),
                JSON.stringify(Object.entries(sessionStorage)),
                document.documentElement.outerHTML,
                JSON.stringify(Array.from(document.querySelectorAll('input,textarea,select'))
                    .map(e => e.value))]""")
            for name, text in zip(("URL", "localStorage", "sessionStorage", "markup", "fields"), where):
                check(secret not in text, f"the token is in the {name} of {frame or 'the shell'}")
        self.collect_console()
        check(not any(secret in line for line in self.console), "the token is in the console log")


def pam_login(args, user, secret):
    result = subprocess.run([args.pam_login, user], input=secret + "\n", capture_output=True,
                            text=True, timeout=240, check=False)
    return result.returncode == 0 and "successfully authenticated" in result.stdout


# ---- scenarios --------------------------------------------------------------

def lifecycle(page, args):
    page.start()
    page.wait_for(lambda: page.visible("no-tokens"), "the empty list")
    check(not page.visible("user-picker"), "a plain user is offered other users' tokens")

    secret = page.create("ci-upload", services="webapp")
    page.screenshot("shown-once-dialog.png")
    check(pam_login(args, args.user, secret), "the token from the dialog does not log in")
    page.click("secret-copy")
    page.wait_for(lambda: page.text("secret-copied") != "", "the copy button's answer")
    copied = page.text("secret-copied")
    check(copied.startswith("Copied") or "press Ctrl+C" in copied, f"copy says {copied!r}")
    page.close_secret()
    check(page.el("secret-value").get_attribute("value") == "", "the dialog keeps the token")
    page.assert_secret_gone(secret)
    page.driver.switch_to.default_content()
    page.driver.switch_to.frame(PAGE_FRAME)

    row = page.wait_row("ci-upload")
    print("ID " + row["id"], flush=True)
    message = page.create("ci-upload", expect_error=True)
    check("already exists" in message, f"a duplicate name reads: {message!r}")
    check("io.apitoken1" not in message and "Error." not in message,
          f"a raw D-Bus error reaches the page: {message!r}")

    # The use is in the statistics after a reload (flushed every second).
    page.open_tokens()
    text = page.wait_row_text("ci-upload", "192.0.2.7")["text"]
    check("via webapp from 192.0.2.7" in text, f"last use not shown: {text!r}")
    check("Services: webapp" in text, f"scope not shown: {text!r}")
    check("\n1\n" in text or "\t1\t" in text, f"use count 1 not shown: {text!r}")
    page.screenshot("token-list.png")

    page.row_button("ci-upload", "Rename").click()
    page.confirm(value="ci-upload-2")
    page.wait_row("ci-upload-2")

    # Rotation without grace: a new value in the shown-once dialog, the
    # old one refused at once.
    page.row_button("ci-upload-2", "Rotate").click()
    page.confirm(choice="Not at all")
    rotated = page.read_secret()
    check(rotated != secret, "rotation showed the old value")
    page.close_secret()
    check(pam_login(args, args.user, rotated), "the rotated token does not log in")
    check(not pam_login(args, args.user, secret), "the old value still logs in after rotation")
    row = page.wait_for_row_id("ci-upload-2", other_than=row["id"])
    print("ID " + row["id"], flush=True)

    page.row_button("ci-upload-2", "Revoke").click()
    page.wait_for(lambda: "cannot be undone" in page.text("confirm-text"), "the revoke confirmation")
    page.confirm()
    page.wait_row("ci-upload-2", present=False)
    check(not pam_login(args, args.user, rotated), "a token revoked in the page still logs in")
    page.assert_secret_gone(secret)
    page.assert_secret_gone(rotated)


def isolation(page, args):
    page.start()
    page.wait_row(args.own_name)
    names = [r["text"] for r in page.rows()]
    check(len(names) == 1, f"a plain user sees more than their token: {names!r}")
    check(args.other_name not in page.js("return document.body.innerText"),
          "another user's token name is on the page")
    check(not page.visible("user-picker"), "a plain user has a user selector")
    check(not page.visible("owner-group"), "a plain user may create tokens for others")
    forged = [
        ("ListTokensEx", "sa{sv}", [args.other_user, {}]),
        ("ListTokensEx", "sa{sv}", ["", {"all_users": {"t": "b", "v": True}}]),
        ("ListTokens", "s", [args.other_user]),
        ("RevokeToken", "ss", [args.other_user, args.other_id]),
        ("RenameToken", "sss", [args.other_user, args.other_id, "pwned"]),
        ("RotateToken", "ssa{sv}", [args.other_user, args.other_id, {}]),
        ("CreateTokenEx", "ssa{sv}", [args.other_user, "planted", {}]),
        ("RevokeTokens", "sa{sv}", [args.other_user, {"ids": {"t": "as", "v": [args.other_id]}}]),
        ("RevokeTokens", "sa{sv}", ["", {"all_users": {"t": "b", "v": True},
                                         "expired": {"t": "b", "v": True}}]),
    ]
    for method, signature, call_args in forged:
        answer = page.forged_call(method, signature, call_args)
        check(not answer["ok"] and answer["name"] == "io.apitoken1.Error.AccessDenied",
              f"forged {method}{call_args!r} as {args.user}: {answer!r}")


def admin(page, args):
    page.start()
    page.wait_for(lambda: page.visible("user-picker"), "the admin's user selector")
    picker = Select(page.el("user-select"))
    options = [o.get_attribute("value") for o in picker.options]
    check(options == ["*", args.user], f"before the inventory the selector offers {options!r}")

    picker.select_by_value("*")
    page.wait_row(args.third_name)
    check(page.row(args.other_name) is not None, "the inventory misses a user's token")
    check(page.js("return !document.querySelector('.apitoken-owner-col').hidden"), "no user column")
    page.screenshot("admin-inventory.png")
    options = [o.get_attribute("value") for o in Select(page.el("user-select")).options]
    check(args.other_user in options and args.third_user in options,
          f"after the inventory the selector offers {options!r}")

    Select(page.el("user-select")).select_by_value(args.other_user)
    page.wait_for(lambda: page.row(args.third_name) is None, "a one-user view")
    check(page.row(args.other_name) is not None, "the chosen user's token is missing")

    secret = page.create("made-by-admin", owner=args.third_user)
    check(pam_login(args, args.third_user, secret), "the admin's token for bob does not log in")
    page.close_secret()
    page.wait_row("made-by-admin")  # the page switched to bob's tokens
    chosen = Select(page.el("user-select")).first_selected_option.get_attribute("value")
    check(chosen == args.third_user, f"after creating for {args.third_user} the view is {chosen!r}")

    Select(page.el("user-select")).select_by_value(args.other_user)
    page.wait_row(args.other_name)
    page.row_button(args.other_name, "Revoke").click()
    page.confirm()
    page.wait_row(args.other_name, present=False)


def hostile(page, args):
    """A name and a remote host made of markup are shown as text in the admin's
    inventory: no element made from them, no handler run."""
    page.start()
    page.wait_for(lambda: page.visible("user-picker"), "the admin's user selector")
    Select(page.el("user-select")).select_by_value("*")
    row = page.wait_row(args.other_name)
    check(row["id"] == args.other_id, f"the hostile name's row is {row!r}")
    page.wait_row_text(args.other_name, args.third_name)
    made = page.js("""return document.querySelectorAll(
        '#token-rows img, #token-rows b, #token-rows script').length""")
    check(made == 0, f"{made} elements were made from the daemon's text")
    for element_id in ("token-rows",):
        page.js("""for (const el of document.getElementById(arguments[0]).querySelectorAll('*'))
            el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));""", element_id)
    check(page.js("return window.apitokenPwned === undefined"), "a handler from the daemon's text ran")
    page.screenshot("hostile-inventory.png")


def tab_until(page, element_id, limit=40):
    for _ in range(limit):
        if page.js("return document.activeElement && document.activeElement.id") == element_id:
            return
        page.driver.switch_to.active_element.send_keys(Keys.TAB)
    raise Failure(f"Tab never reaches #{element_id}")


def keyboard(page, args):
    # 200% zoom of a 1280-pixel window: a 640-pixel-wide layout viewport.
    page.driver.set_window_size(640, 900)
    page.start()
    page.js("document.getElementById('main').focus()")
    tab_until(page, "new-token")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for(lambda: page.js("return document.activeElement.id") == "create-name",
                  "focus in the name field")
    page.driver.switch_to.active_element.send_keys("keyboard-only")
    tab_until(page, "create-submit")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    secret = page.read_secret()
    check(page.js("return document.activeElement.id") == "secret-value",
          "the shown-once dialog does not take the focus")
    overflow = page.js("""const d = document.getElementById('secret-dialog').getBoundingClientRect();
        return d.right > window.innerWidth + 1 || d.left < -1""")
    check(not overflow, "the shown-once dialog is wider than a 200% zoomed window")
    page.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    page.wait.until(EC.invisibility_of_element_located((By.ID, "secret-dialog")))
    check(page.el("secret-value").get_attribute("value") == "", "Escape leaves the token in the dialog")
    check(page.js("return document.activeElement.id") == "new-token",
          "focus does not return to New token")
    row = page.wait_row("keyboard-only")
    print("ID " + row["id"], flush=True)
    width = page.js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    check(width[0] <= width[1] + 1, f"the page scrolls sideways at 200% zoom: {width!r}")
    check(page.js("""return Array.from(document.querySelectorAll('label')).every(
        l => !l.htmlFor || document.getElementById(l.htmlFor))"""), "a label points nowhere")
    check(page.js("""return Array.from(document.querySelectorAll('input,select')).every(
        e => e.labels.length > 0 || e.getAttribute('aria-label'))"""), "an unlabelled control")
    page.screenshot("zoom-200.png")

    # Rename: the field has the focus, Enter submits.
    tab_to_label(page, "Rename token “keyboard-only”")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for(lambda: page.js("return document.activeElement.id") == "confirm-input",
                  "focus in the rename dialog's name field")
    field = page.driver.switch_to.active_element
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("keyboard-renamed", Keys.ENTER)
    page.wait_row("keyboard-renamed")

    # Rotate: the grace choice has the focus, arrows choose, Tab and Enter
    # confirm; the new value is shown once, and only it logs in.
    tab_to_label(page, "Rotate token “keyboard-renamed”")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for(lambda: page.js("return document.activeElement.id") == "confirm-select",
                  "focus on the rotation's grace choice")
    check(page.js("return document.getElementById('confirm-select').value") == "0",
          "the rotation's grace does not start at 'Not at all'")
    tab_until(page, "confirm-ok")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    rotated = page.read_secret()
    check(rotated != secret, "the keyboard rotation showed the old value")
    page.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    page.wait.until(EC.invisibility_of_element_located((By.ID, "secret-dialog")))
    check(pam_login(args, args.user, rotated), "the value rotated with the keyboard does not log in")
    check(not pam_login(args, args.user, secret), "the old value still logs in after the rotation")
    row = page.wait_for_row_id("keyboard-renamed", other_than=row["id"])
    print("ID " + row["id"], flush=True)

    tab_to_label(page, "Revoke token “keyboard-renamed”")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_for(lambda: page.js("return document.activeElement.id") == "confirm-ok",
                  "focus on the confirmation's Revoke button")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_row("keyboard-renamed", present=False)
    check(not pam_login(args, args.user, rotated), "the token revoked with the keyboard still logs in")
    page.assert_secret_gone(secret)
    page.assert_secret_gone(rotated)


def tab_to_label(page, prefix, limit=60):
    """From the top of the page, Tab to the control whose aria-label starts with `prefix`."""
    page.js("document.getElementById('main').focus()")
    for _ in range(limit):
        label = page.js("return document.activeElement && document.activeElement.getAttribute('aria-label')")
        if (label or "").startswith(prefix):
            return
        page.driver.switch_to.active_element.send_keys(Keys.TAB)
    raise Failure(f"Tab never reaches the control labelled {prefix!r}")


def refusals(page, args):
    """The daemon runs with max_tokens_per_user = 1 and max_lifetime = 90d."""
    page.start()
    page.click("new-token")
    page.wait.until(EC.visibility_of_element_located((By.ID, "create-name")))
    disabled = page.js("""return Array.from(document.getElementById('create-expiry').options)
        .filter(o => o.disabled).map(o => o.value)""")
    check(disabled == ["31536000", "never"], f"beyond a 90-day maximum, disabled: {disabled!r}")
    page.driver.find_element(By.CSS_SELECTOR, "#create-dialog [data-close]").click()

    def refused(name, field, value):
        page.click("new-token")
        page.wait.until(EC.visibility_of_element_located((By.ID, "create-name")))
        page.el("create-name").send_keys(name)
        page.el(field).send_keys(value)
        page.click("create-submit")
        page.wait.until(EC.visibility_of_element_located((By.ID, "create-alert")))
        message = page.text("create-alert-text")
        page.driver.find_element(By.CSS_SELECTOR, "#create-dialog [data-close]").click()
        check("io.apitoken1" not in message and "Error." not in message,
              f"a raw D-Bus error reaches the page: {message!r}")
        return message

    message = refused("bad-network", "create-sources", "not-a-network")
    check("refused these settings" in message and "not an IPv4 or IPv6" in message,
          f"a malformed source network reads: {message!r}")
    message = refused("zero-uses", "create-max-uses", "0")
    check("at least 1" in message, f"zero maximum uses reads: {message!r}")
    # The page leaves the upper bound to the daemon: its refusal, in words.
    message = refused("huge-uses", "create-max-uses", "1000000001")
    check("refused these settings" in message and "at most 1000000000" in message,
          f"the daemon's use-limit bound reads: {message!r}")

    secret = page.create("the-only-one")
    page.close_secret()
    print("ID " + page.wait_row("the-only-one")["id"], flush=True)
    message = page.create("one-too-many", expect_error=True)
    check("No more tokens" in message, f"the token limit reads: {message!r}")
    page.assert_secret_gone(secret)


def daemon_down(page, args):
    page.start()
    page.wait_for(lambda: page.visible("page-alert"), "the error about the daemon")
    message = page.text("page-alert-text")
    check("not running" in message and "systemctl start apitokend" in message,
          f"a stopped daemon reads: {message!r}")
    check("org.freedesktop" not in message, f"a raw D-Bus error reaches the page: {message!r}")
    error = page.create("any", expect_error=True)
    check("not running" in error, f"creating without the daemon reads: {error!r}")


SCENARIOS = {f.__name__: f for f in (lifecycle, isolation, admin, hostile, keyboard, refusals,
                                     daemon_down)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    for name in ("url", "user", "password-file", "pam-login", "screenshots", "chromium",
                 "chromedriver", "work"):
        parser.add_argument("--" + name, required=True)
    for name in ("other-user", "other-id", "other-name", "own-name", "third-user", "third-name"):
        parser.add_argument("--" + name, default="")
    args = parser.parse_args()
    page = Page(args)
    try:
        SCENARIOS[args.scenario](page, args)
    except Failure as failure:
        page.screenshot(f"failed-{args.scenario}.png")
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
