#!/bin/sh
# pam_apitoken.so must export exactly the PAM entry points: anything else
# could clash with symbols of the program that loads it.
# Usage: check_exports.sh MODULE [plain|sanitize]
set -eu
module=$1
exports=$(nm -D --defined-only "$module" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" != "pam_sm_authenticate pam_sm_setcred " ]; then
  echo "unexpected exports from $module: $exports" >&2
  exit 1
fi
echo "exports: $exports"

# It is loaded into other people's processes: it needs libpam, libsystemd
# and the C library, nothing else (the C++ runtime is linked in, hidden).
# A sanitizer build ("sanitize" as the second argument) also needs the
# sanitizer runtimes and the shared C++ runtime.
allowed='libpam\.so|libsystemd\.so|libc\.so|ld-linux'
if [ "${2:-plain}" = sanitize ]; then
  allowed="$allowed|libasan|libubsan|libstdc\+\+|libgcc_s|libm\.so"
fi
extra=$(readelf -d "$module" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
  grep -Ev "^($allowed)" || true)
if [ -n "$extra" ]; then
  echo "$module needs more than libpam, libsystemd and libc:" $extra >&2
  exit 1
fi
echo "needs only libpam, libsystemd and libc"
