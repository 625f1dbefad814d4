# Shared by the set-up scripts: Debian packages and the build.
# shellcheck shell=bash

# What building apitoken needs.
APITOKEN_BUILD_PACKAGES=(
  cmake g++ make pkg-config
  libsodium-dev liblmdb-dev zlib1g-dev libsystemd-dev libpam0g-dev libcli11-dev
  nlohmann-json3-dev libunistring-dev libxml2-dev libpq-dev
)

# What the installed service and the demo need on a host.
APITOKEN_RUNTIME_PACKAGES=(
  dbus systemd util-linux passwd pamtester logrotate
)

# What running the whole test suite needs on top.
APITOKEN_TEST_PACKAGES=(
  libgtest-dev clang-format clang-tidy
  dbus-daemon systemd libnss-wrapper util-linux
  pamtester libpam-wrapper libpamtest0-dev valgrind binutils groff-base bash-completion
  nginx-light libnginx-mod-http-auth-pam vsftpd curl passwd
  dpkg-dev fakeroot adduser clang postgresql-15 procps
  cockpit-ws cockpit-bridge cockpit-system chromium chromium-driver python3-selenium
  git shellcheck python3-yaml logrotate
)

log() { printf '\033[1m==> [%s, %ds in] %s\033[0m\n' "$(date +%T)" "$SECONDS" "$*" >&2; }

# Installs the Debian packages that are not installed yet; does nothing
# (and needs no network) when all are there.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# configure_and_build BUILD_DIR [CMAKE_ARGS...]
configure_and_build() {
  local dir=$1
  shift
  log "configuring $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  log "building $dir"
  cmake --build "$dir" --parallel "$(nproc)"
}
