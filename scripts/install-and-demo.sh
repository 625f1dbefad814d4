#!/usr/bin/env bash
# Installs what apitoken needs (Debian packages), builds it, and shows it at
# work: a token is created, used, mistyped and revoked.
#
# For now apitoken is its token store only; the daemon, the PAM module and
# apitokenctl come next, and this script will then install and start the
# service. Running it twice is harmless.
#
# Usage: scripts/install-and-demo.sh   (as root on a fresh Debian 12 machine)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages "${APITOKEN_BUILD_PACKAGES[@]}"
configure_and_build build-release -DCMAKE_BUILD_TYPE=Release \
  -DAPITOKEN_BUILD_TESTS=OFF -DAPITOKEN_BUILD_BENCH=OFF

state_dir=$(mktemp -d /tmp/apitoken-demo.XXXXXX)
trap 'rm -rf "$state_dir"' EXIT
log "demo: the token store at work"
./build-release/store/apitoken-store-demo "$state_dir/state" "$(id -un)"
