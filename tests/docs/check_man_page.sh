#!/bin/sh
# A man page must render with no groff warning at all (-ww), so that what
# `man` shows is what was written.
set -eu
warnings=$(groff -man -Tutf8 -ww -z "$1" 2>&1)
if [ -n "$warnings" ]; then
  printf '%s\n' "$warnings" >&2
  exit 1
fi
