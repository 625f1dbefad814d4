#!/usr/bin/env bash
# contrib/ works as its comments say: the gitleaks rule parses (TOML) and
# matches real tokens and nothing 55 or 57 characters long; the pre-commit
# hook definition parses; the git hook script is valid shell, clean for
# shellcheck, and, in a scratch git
# repository, refuses a commit that adds a token and lets others through.
#
# Usage: check_contrib.sh SOURCE_DIR APITOKENCTL
set -euo pipefail
src=$1
ctl=$2
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Checksum-valid tokens (the first is tests/unit/token_format_test.cpp's
# fixed example; apitokenctl scan --offline below checks all three).
tokens=(
    atk_00000000000000000000000000000000000000000000ec6cdec2
    atk_0d21a77232f2fe810a7b8d3a0d9f4ff90cd465620108315b28a6
    atk_eb63a344bdf4f00cb9cac2b160209cd6c77dd198bac87a80dfa8
)
found=$(printf '%s\n' "${tokens[@]}" | "$ctl" scan --offline - | wc -l) || true
[[ $found -eq ${#tokens[@]} ]] || fail "apitokenctl finds $found of the ${#tokens[@]} fixture tokens"

python3 - "$src/contrib/gitleaks/apitoken.toml" "${tokens[@]}" <<'PYTHON' || fail "the gitleaks rule"
import re, sys, tomllib

path, tokens = sys.argv[1], sys.argv[2:]
with open(path, "rb") as f:
    config = tomllib.load(f)
rules = config["rules"]
assert len(rules) == 1, rules
rule = rules[0]
assert rule["id"] and rule["description"], rule
assert rule["keywords"] == ["atk_"], rule["keywords"]
# gitleaks uses Go's RE2: \b is an ASCII word boundary, as with re.ASCII.
pattern = re.compile(rule["regex"], re.ASCII)
group = rule.get("secretGroup", 0)
for token in tokens:
    for text in (token, f"TOKEN={token}\n", f'"{token}"', f"x {token}."):
        m = pattern.search(text)
        assert m and m.group(group) == token, (text, m)
    for near in (token[:-1], token + "0", token + "a", "x" + token, "_" + token,
                 token[:4] + token[4:].upper(), "ATK_" + token[4:]):
        assert not pattern.search(near), ("matched", near)
print(f"ok: {path} parses and its rule matches {len(tokens)} tokens and no near miss")
PYTHON

python3 - "$src/contrib/pre-commit/.pre-commit-hooks.yaml" <<'PYTHON' || fail "the pre-commit hook definition"
import sys

import yaml  # python3-yaml, a test package (scripts/lib.sh)
hooks = yaml.safe_load(open(sys.argv[1]))
assert isinstance(hooks, list) and hooks, hooks
hook = hooks[0]
for key in ("id", "name", "entry", "language"):
    assert hook.get(key), (key, hook)
assert hook["entry"].startswith("apitokenctl scan"), hook["entry"]
print(f"ok: {sys.argv[1]} parses")
PYTHON

hook=$src/contrib/pre-commit/pre-commit
bash -n "$hook" || fail "the git hook does not parse"
# shellcheck and git are test packages (scripts/lib.sh): missing, they fail.
shellcheck "$hook" || fail "shellcheck finds fault with the git hook"

# The hook in a scratch repository, apitokenctl on PATH, without a daemon.
{
    repo=$(mktemp -d /tmp/apitoken-hook-XXXXXX)
    trap 'rm -rf "$repo"' EXIT
    bin=$repo/.bin
    mkdir -p "$bin"
    ln -s "$ctl" "$bin/apitokenctl"
    export PATH="$bin:$PATH" APITOKEN_SCAN_OPTIONS=--offline
    git -C "$repo" init -q
    git -C "$repo" config user.email test@example.org
    git -C "$repo" config user.name test
    cd "$repo"
    echo "nothing secret" >clean.txt
    git add clean.txt
    "$hook" >/dev/null 2>&1 || fail "the hook refuses a commit without a token"
    git commit -q --no-verify -m clean
    printf 'password = %s\n' "${tokens[1]}" >config.ini
    git add config.ini
    if "$hook" >/dev/null 2>"$repo/.err"; then
        fail "the hook lets a token through"
    fi
    grep -q "hold an API token" "$repo/.err" || fail "the hook does not say why: $(cat "$repo/.err")"
    if grep -q "${tokens[1]:16}" "$repo/.err"; then
        fail "the hook printed the secret"
    fi
    git commit -q --no-verify -m leak
    git rm -q config.ini
    "$hook" >/dev/null 2>&1 || fail "the hook refuses a commit that removes a token"
    echo "ok: the git hook refuses an added token and lets the rest through"
}
exit "$failures"
