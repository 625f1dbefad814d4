#!/bin/sh
# Fuzzes for longer than the ctest smoke run (APITOKEN_FUZZ_CTEST_SECONDS).
#
#   tests/fuzz/run.sh [SECONDS] [FUZZER...]
#
# SECONDS per fuzzer (default $FUZZ_SECONDS, else 300); FUZZER names from
# tests/fuzz/CMakeLists.txt (default: all six). The build directory is
# $FUZZ_BUILD_DIR (default build-fuzz at the repository root), configured with
#   CXX=clang++ CC=clang cmake -S . -B build-fuzz -DAPITOKEN_FUZZ=ON
# New inputs go to the build directory's corpus; crashes are written there as
# crash-*/leak-*/timeout-* and make this script exit non-zero. To keep one as
# a regression test, copy it to tests/fuzz/regressions/FUZZER/ and re-run cmake.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=${1:-${FUZZ_SECONDS:-300}}
[ $# -gt 0 ] && shift
fuzzers=${*:-token_parse_fuzzer record_decode_fuzzer config_parse_fuzzer expiry_duration_fuzzer daemon_methods_fuzzer jenkins_import_fuzzer}

cmake --build "$build" --target $fuzzers

status=0
for fuzzer in $fuzzers; do
    work="$build/tests/fuzz/corpus/$fuzzer"
    mkdir -p "$work"
    echo "== $fuzzer for ${seconds}s"
    # Seeds are read but never written: libFuzzer adds to the first directory.
    "$build/tests/fuzz/$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/tests/fuzz/$fuzzer-" \
        "$work" "$repo/tests/fuzz/corpus/$fuzzer" || status=1
done
exit $status
