#!/bin/sh
# Runs before `npm test` (npm's `pretest`). The operator console's browser test drives Debian's
# Chromium at /usr/bin/chromium through playwright-core, which downloads no browser. On a machine
# without it, install it from Debian's packages when this user can; otherwise, or when that fails,
# say how, and let that test fail with its own message while the rest run: this never fails itself.
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
advise() {
  echo "pretest: $1; the console's browser test needs Chromium at $CHROMIUM" \
    "(Debian: apt-get install -y --no-install-recommends chromium)" >&2
  exit 0
}
command -v apt-get >/dev/null 2>&1 || advise "$CHROMIUM is missing and there is no apt-get here"
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  advise "$CHROMIUM is missing and installing it needs root"
fi
echo "pretest: installing Debian's chromium for the console's browser test (once)"
$as_root apt-get update -qq || advise "apt-get update failed"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
  || advise "apt-get could not install chromium (on Ubuntu it is a snap, not a package)"
[ -x "$CHROMIUM" ] || advise "chromium was installed but $CHROMIUM is not there"
