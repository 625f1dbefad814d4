#!/usr/bin/env bash
# Runs every test: installs what the suite needs (Debian packages), builds
# with warnings as errors, runs the whole suite through ctest (unit tests,
# lint, benchmark smoke tests), runs the integration tests once more with
# apitokend under valgrind memcheck, then builds and runs the suite again
# under AddressSanitizer + UndefinedBehaviorSanitizer, and runs the
# libFuzzer targets for a few seconds each (clang).
#
# Usage: scripts/run-tests.sh   (as root on a fresh Debian 12 machine)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages "${APITOKEN_BUILD_PACKAGES[@]}" "${APITOKEN_TEST_PACKAGES[@]}"

jobs=$(nproc)
configure_and_build build -DAPITOKEN_WERROR=ON -DAPITOKEN_LINT=ON
log "running the test suite"
ctest --test-dir build --output-on-failure --parallel "$jobs"
log "running the integration tests again with apitokend under valgrind memcheck"
APITOKEN_TEST_DAEMON_UNDER_VALGRIND=1 \
  ctest --test-dir build -L integration --output-on-failure --parallel "$jobs"

configure_and_build build-asan -DAPITOKEN_WERROR=ON -DAPITOKEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
log "running the test suite under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs"

# The fuzzers need clang; only they are built in this directory.
fuzzers=(token_parse_fuzzer config_parse_fuzzer record_decode_fuzzer expiry_duration_fuzzer
         daemon_methods_fuzzer jenkins_import_fuzzer inbound_framing_fuzzer)
log "configuring build-fuzz (clang)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DAPITOKEN_FUZZ=ON -DAPITOKEN_BUILD_BENCH=OFF >/dev/null
log "building the fuzzers"
cmake --build build-fuzz --parallel "$jobs" --target "${fuzzers[@]}"
log "running the fuzzers (short; tests/fuzz/run.sh SECONDS for longer)"
ctest --test-dir build-fuzz -L fuzz --output-on-failure --parallel "$jobs"
