#!/usr/bin/env bash
# The bash completion completes: subcommands, options, and token ids of the
# right user (--user=NAME or --user NAME), only where an id goes. apitokenctl
# is replaced by a function that prints a `list` table per user.
#
# Usage: check_completion.sh COMPLETION_FILE
set -uo pipefail
# shellcheck source=/dev/null
source /usr/share/bash-completion/bash_completion || exit 1
# shellcheck source=/dev/null
source "$1" || exit 1
compopt() { :; } # only works inside a real completion; nothing to check here

apitokenctl() {
    local user=caller arg
    for arg in "$@"; do
        case $arg in --user=*) user=${arg#--user=} ;; esac
    done
    printf 'ID            NAME\n'
    case $user in
        caller) printf '0123456789ab  mine\n' ;;
        alice) printf 'aaaaaaaaaaaa  hers\nabababababab  also-hers\n' ;;
    esac
}

failures=0
# expect "WORDS TO COMPLETE (the last one is being completed)" "EXPECTED REPLIES"
expect() {
    local line=$1 want=$2
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    _apitokenctl apitokenctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
    if [[ $got != "$want" ]]; then
        echo "FAIL: '$line' completes to '$got', expected '$want'" >&2
        failures=$((failures + 1))
    fi
}

expect "apitokenctl re" "rename revoke"
expect "apitokenctl st" "status"
expect "apitokenctl revoke " "0123456789ab"
expect "apitokenctl revoke --user=alice " "aaaaaaaaaaaa abababababab"
expect "apitokenctl revoke --user alice a" "aaaaaaaaaaaa abababababab"
expect "apitokenctl revoke 0123456789ab " "0123456789ab"
expect "apitokenctl rename " "0123456789ab"
expect "apitokenctl rename 0123456789ab " ""
expect "apitokenctl create --exp" "--expires="
expect "apitokenctl create --expires " "1w 30d 7d 90d never"
expect "apitokenctl list " ""
expect "apitokenctl s" "scan show status"
expect "apitokenctl show " "0123456789ab"
expect "apitokenctl show 0123456789ab " ""
expect "apitokenctl update --user alice " "aaaaaaaaaaaa abababababab"
expect "apitokenctl update --description x " "0123456789ab"
expect "apitokenctl update 0123456789ab --any" "--any-host --any-service --any-source"
expect "apitokenctl rotate --grace 1d " "0123456789ab"
expect "apitokenctl rotate 0123456789ab --gr" "--grace="
expect "apitokenctl create x --from 10.0.0.0/8 --max" "--max-uses="
expect "apitokenctl create x --from " ""
expect "apitokenctl list --all" "--all-users"
expect "apitokenctl revoke --unused 90d --d" "--dry-run"
expect "apitokenctl revoke --exp" "--expired"
expect "apitokenctl revoke --unused " "180d 30d 365d 90d"
expect "apitokenctl sc" "scan"
expect "apitokenctl scan --re" "--revoke"
expect "apitokenctl scan --" "--bus-only --git-objects --help --json --offline --revoke"
expect "apitokenctl scan --offline /nonexistent-apitoken-dir/x" ""
expect "apitokenctl im" "import-jenkins"
expect "apitokenctl import-jenkins --" "--bus-only --dry-run --help --json --service= --user-map="
expect "apitokenctl import-jenkins --service " "$(command ls /etc/pam.d 2>/dev/null | sort | xargs)"
scratch=$(mktemp -d) || exit 1
mkdir "$scratch/jenkins_home" && : >"$scratch/jenkins_users.map"
expect "apitokenctl import-jenkins $scratch/jenkins_" "$scratch/jenkins_home"
expect "apitokenctl import-jenkins --user-map $scratch/jenkins_u" "$scratch/jenkins_users.map"
rm -r "$scratch"
expect "apitokenctl import-jenkins /nonexistent-apitoken-dir --dry-run " ""
[[ $failures -eq 0 ]] && echo "ok: the completion completes"
exit "$failures"
