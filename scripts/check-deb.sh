#!/usr/bin/env bash
# Builds the .deb with CPack, checks its library dependencies, installs it
# with dpkg -i on this host, checks what the maintainer scripts did, runs the
# installed daemon as the installed user under the installed D-Bus policy,
# removes the package with dpkg -r, and checks that nothing is left running. Run by ctest (package.deb_install_remove).
# Exit 77 (skip) when not root, or when apitoken is already on this host
# (a package or a cmake --install): a test must not take it away.
#
# Usage: scripts/check-deb.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
dpkg-query -W -f='${Status}' apitoken 2>/dev/null | grep -q installed &&
  skip "the apitoken package is installed here already"
[ -e /usr/sbin/apitokend ] && skip "apitoken is installed here (cmake --install); not touching it"

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DAPITOKEN_BUILD_TESTS=OFF -DAPITOKEN_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)" >/dev/null
(cd "$build" && rm -f apitoken_*.deb && cpack -G DEB >/dev/null)
deb=$(ls "$build"/apitoken_*.deb)

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libsodium liblmdb libsystemd libpam; do
  case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib (dpkg-shlibdeps did not run?): $depends" ;; esac
done
[ "$(dpkg-deb -f "$deb" Suggests)" = "cockpit" ] || fail "the .deb does not suggest cockpit"

tmp=$(mktemp -d)
bus_pid=
cleanup() {
  dpkg -r apitoken >/dev/null 2>&1 || true
  if [ -n "$bus_pid" ]; then kill "$bus_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "dpkg -i $(basename "$deb")"
dpkg -i "$deb"

getent passwd apitoken >/dev/null || fail "postinst did not create the apitoken user"
getent group apitoken-auth >/dev/null || fail "postinst did not create apitoken-auth"
getent group apitoken-admin >/dev/null || fail "postinst did not create apitoken-admin"
[ "$(stat -c '%a %U' /var/lib/apitoken)" = "700 apitoken" ] || fail "/var/lib/apitoken is not 0700 apitoken"
pam_dir=$(pkg-config --variable=libdir pam)/security
for f in /usr/sbin/apitokend /usr/bin/apitokenctl "$pam_dir/pam_apitoken.so" \
  /usr/share/dbus-1/system.d/io.apitoken1.conf /usr/share/dbus-1/system-services/io.apitoken1.service \
  /lib/systemd/system/apitokend.service /etc/apitoken/apitokend.conf /usr/share/man/man1/apitokenctl.1 \
  /usr/share/cockpit/apitoken/manifest.json; do
  [ -e "$f" ] || fail "$f is missing after dpkg -i"
done
# Every file of the Cockpit page (cockpit/CMakeLists.txt installs them all).
for f in "$src"/cockpit/*.html "$src"/cockpit/*.css "$src"/cockpit/*.js "$src"/cockpit/*.json; do
  cmp -s "$f" "/usr/share/cockpit/apitoken/$(basename "$f")" ||
    fail "the page's $(basename "$f") is missing or differs after dpkg -i"
done
/usr/bin/apitokenctl --version >/dev/null || fail "apitokenctl does not run"

# The installed daemon runs as the installed user on a bus that uses the
# installed policy (a private bus: this host's system bus is not ours to
# reconfigure); dpkg -r must then stop it.
chmod 755 "$tmp"
sed "s|@APITOKEN_POLICY_FILE@|/usr/share/dbus-1/system.d/io.apitoken1.conf|" \
  "$src/systemd/test-bus.conf.in" >"$tmp/bus.conf"
dbus-daemon --config-file="$tmp/bus.conf" --address="unix:path=$tmp/bus" --nofork \
  >"$tmp/bus.log" 2>&1 &
bus_pid=$!
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus"
for _ in $(seq 50); do [ -S "$tmp/bus" ] && break; sleep 0.1; done
setpriv --reuid=apitoken --regid=apitoken --init-groups /usr/sbin/apitokend >"$tmp/apitokend.log" 2>&1 &
for _ in $(seq 50); do apitokenctl status >/dev/null 2>&1 && break; sleep 0.2; done
apitokenctl status >/dev/null 2>&1 ||
  fail "the installed apitokend did not come up: $(cat "$tmp/apitokend.log" "$tmp/bus.log")"
pidof /usr/sbin/apitokend >/dev/null || fail "apitokend is not running"

echo "dpkg -r apitoken"
dpkg -r apitoken
pidof /usr/sbin/apitokend >/dev/null && fail "apitokend still runs after dpkg -r"
[ -e /usr/sbin/apitokend ] && fail "/usr/sbin/apitokend is left after dpkg -r"
dpkg -P apitoken >/dev/null
[ -e /etc/apitoken ] && fail "/etc/apitoken is left after purge"
echo "ok: installed, ran, checked, removed (the daemon stopped) and purged"
