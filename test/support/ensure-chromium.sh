#!/bin/sh
# Runs before `npm test` (npm's `pretest`). The operator console's browser test drives Debian's
# Chromium at /usr/bin/chromium through playwright-core, which downloads no browser. On a machine
# without it, install it from Debian's packages when this user can; otherwise say how, and let that
# test fail with its own message while the rest run.
set -eu
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    echo "pretest: $CHROMIUM is missing; install it with: sudo apt-get install -y --no-install-recommends chromium" >&2
    exit 0
  fi
  echo "pretest: installing Debian's chromium for the console's browser test (once)"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "pretest: $CHROMIUM is missing and this is not a Debian system; the console's browser test needs Chromium there" >&2
