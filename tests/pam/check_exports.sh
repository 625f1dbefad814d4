#!/bin/sh
# pam_apitoken.so must export exactly the PAM entry points: anything else
# could clash with symbols of the program that loads it.
set -eu
module=$1
exports=$(nm -D --defined-only "$module" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" != "pam_sm_authenticate pam_sm_setcred " ]; then
  echo "unexpected exports from $module: $exports" >&2
  exit 1
fi
echo "exports: $exports"
