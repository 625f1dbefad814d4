#!/usr/bin/env bash
# Installs apitoken on this Debian 12 host and shows it at work:
#   1. installs the build dependencies and builds (Release),
#   2. installs every file (cmake --install, prefix /usr),
#   3. creates the apitoken user and groups, the state directory,
#   4. starts the service the way the host allows: systemctl where systemd
#      is PID 1; otherwise starts the system dbus-daemon if none runs and
#      runs apitokend in the background as the apitoken user (its log:
#      /var/log/apitokend.log, 0640 root:adm, rotated by logrotate),
#   5. shows the main job: a token is created for a demo user, accepted by
#      a PAM service (pamtester), revoked, and then refused.
# Running it again rebuilds, reinstalls, restarts and repeats the demo.
#
# Usage: scripts/install-and-demo.sh   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "run as root: it installs into /usr and starts a system service" >&2; exit 1; }

ensure_packages "${APITOKEN_BUILD_PACKAGES[@]}" "${APITOKEN_RUNTIME_PACKAGES[@]}"
configure_and_build build-release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DAPITOKEN_BUILD_TESTS=OFF -DAPITOKEN_BUILD_BENCH=OFF
log "installing"
cmake --install build-release >/dev/null

log "creating the apitoken user and groups, and /var/lib/apitoken"
systemd-sysusers /usr/lib/sysusers.d/apitoken.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/apitoken.conf

pid_file=/run/apitokend.pid
log_file=/var/log/apitokend.log

system_bus_answers() {
  dbus-send --system --type=method_call --print-reply --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1
}

# The pid in $pid_file, if that process is still an apitokend (after a
# reboot of a container the number may belong to something else).
running_apitokend() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/apitokend ] && echo "$pid"
}

# The log names users, token ids, services and remote hosts: root and adm
# (Debian's group for reading logs) only, and so from before its first line.
# An existing file gets that mode and owner too (this script used to create
# it 0644); something other than a regular file there is not touched.
# /etc/logrotate.d/apitokend rotates it.
prepare_log_file() {
  local file=$1 group=adm
  getent group adm >/dev/null || group=root
  if [ -L "$file" ] || { [ -e "$file" ] && [ ! -f "$file" ]; }; then
    echo "$file is not a regular file; not logging to it" >&2
    exit 1
  fi
  if [ -e "$file" ]; then
    chown "root:$group" "$file"
    chmod 0640 "$file"
  else
    install -m 0640 -o root -g "$group" /dev/null "$file"
  fi
}

start_without_systemd() {
  if system_bus_answers; then
    # dbus-daemon resolves policy user names when it loads its config.
    dbus-send --system --type=method_call --dest=org.freedesktop.DBus \
      /org/freedesktop/DBus org.freedesktop.DBus.ReloadConfig >/dev/null
  else
    log "starting the system dbus-daemon"
    # A socket and pid file left by a dbus-daemon that is gone would stop it.
    rm -f /run/dbus/system_bus_socket /run/dbus/pid
    mkdir -p /run/dbus
    dbus-daemon --system --fork
  fi
  local pid
  if pid=$(running_apitokend); then
    log "stopping the previous apitokend"
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  prepare_log_file "$log_file"
  log "starting apitokend as user apitoken (log: $log_file)"
  setpriv --reuid=apitoken --regid=apitoken --init-groups \
    /usr/sbin/apitokend >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

if [ -d /run/systemd/system ]; then
  log "starting apitokend.service"
  systemctl daemon-reload
  systemctl reload dbus.service || true
  systemctl enable apitokend.service apitokend.socket
  systemctl start apitokend.socket
  systemctl restart apitokend.service
else
  start_without_systemd
fi

for _ in $(seq 50); do
  apitokenctl status >/dev/null 2>&1 && break
  sleep 0.1
done
apitokenctl status

# The demo: a user, a PAM service that accepts tokens only, one token.
demo_user=apitoken-demo
id "$demo_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$demo_user"
cat >/etc/pam.d/apitoken-demo <<'PAM'
# Demo service of scripts/install-and-demo.sh: accepts API tokens only.
auth     required  pam_apitoken.so
account  required  pam_permit.so
PAM

show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show "TOKEN=\$(apitokenctl create demo --user=$demo_user --expires=1h)"
token=$(apitokenctl create "demo-$(date +%s)" --user="$demo_user" --expires=1h)
id=${token:4:12}
echo "(token ${token:0:16}... shown once; its id is $id)"
show "apitokenctl list --user=$demo_user"
apitokenctl list --user="$demo_user"
show "echo \"\$TOKEN\" | pamtester apitoken-demo $demo_user authenticate"
echo "$token" | pamtester apitoken-demo "$demo_user" authenticate
show "apitokenctl revoke $id --user=$demo_user"
apitokenctl revoke "$id" --user="$demo_user"
show "echo \"\$TOKEN\" | pamtester apitoken-demo $demo_user authenticate"
if echo "$token" | pamtester apitoken-demo "$demo_user" authenticate; then
  echo "unexpected: a revoked token was accepted" >&2
  exit 1
fi
echo
log "apitoken is installed and running; see: man apitokenctl, man pam_apitoken"
