#!/usr/bin/env bash
# systemd/apitokend.logrotate does what its comments say, run by the real
# logrotate on a copy that points at a scratch file: a log under 10 MiB is
# left alone; one over it is rotated at once (not only weekly), its copy
# keeping mode 0640 and group adm; a writer that keeps its descriptor open
# (O_APPEND, as apitokend's stderr) goes on at the start of the emptied file.
#
# Usage: check_logrotate.sh SNIPPET
set -euo pipefail
snippet=$1
dir=$(mktemp -d /tmp/apitoken-logrotate-XXXXXX)
trap 'exec 3>&-; rm -rf "$dir"' EXIT
log=$dir/apitokend.log
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

grep -q '^/var/log/apitokend.log {' "$snippet" || fail "the snippet does not name /var/log/apitokend.log"
sed "s|^/var/log/apitokend.log {|$log {|" "$snippet" >"$dir/conf"
chmod 0644 "$dir/conf" # logrotate refuses a configuration others may write
rotate() { logrotate -s "$dir/state" "$dir/conf" || fail "logrotate failed"; }

exec 3>>"$log" # the daemon's stderr
chmod 0640 "$log"
chgrp adm "$log"
echo "a line" >&3
rotate
[[ -e $log.1 ]] && fail "a small log was rotated"

head -c $((11 << 20)) /dev/zero | tr '\0' x >&3
rotate
[[ -e $log.1 ]] || fail "a log over 10 MiB was not rotated"
[[ $(stat -c %s "$log") -eq 0 ]] || fail "the log was not emptied (copytruncate)"
[[ $(stat -c '%a %G' "$log.1") == "640 adm" ]] || fail "the copy is $(stat -c '%a %G' "$log.1"), not 640 adm"
echo "after rotation" >&3
[[ $(head -c 14 "$log") == "after rotation" ]] || fail "the writer did not go on at the start of the file"
[[ $failures -eq 0 ]] && echo "ok: rotated over 10 MiB, copy 0640 adm, writer goes on"
exit "$failures"
