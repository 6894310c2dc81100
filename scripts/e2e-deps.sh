#!/usr/bin/env bash
# Install what the end-to-end tests (crates/e2e) need on Debian: Postfix and
# SpamAssassin with spamc. Idempotent and quiet. (Debian's sendmail-bin
# conflicts with postfix, so sendmail is not installed: see docs/sendmail.md.)
#
# Postfix is preseeded as "No configuration" and the packaged system instance
# is kept from starting (a temporary policy-rc.d refuses service starts during
# the install; an instance started anyway is stopped). The tests run their own
# throw-away instances with private configuration directories.
set -euo pipefail

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

need=()
command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || need+=(postfix)
dpkg -s spamassassin >/dev/null 2>&1 || need+=(spamassassin)
dpkg -s spamc >/dev/null 2>&1 || need+=(spamc)
[ ${#need[@]} -eq 0 ] && exit 0

echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections

# Refuse every service start while the packages install (invoke-rc.d honours
# policy-rc.d exit code 101). Only remove the file if this script created it.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && $sudo rm -f "$policy"; return 0; }
trap cleanup EXIT

apt_install() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -q \
        --no-install-recommends "${need[@]}" >/dev/null
}
if ! apt_install 2>/dev/null; then
    $sudo apt-get update -q -q >/dev/null
    apt_install
fi

# Belt and braces: the packaged system instances must not run (postfix's
# would otherwise bind port 25).
for svc in postfix spamd spamassassin; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
done
if [ -x /usr/sbin/postfix ] && /usr/sbin/postfix status >/dev/null 2>&1; then
    $sudo /usr/sbin/postfix stop >/dev/null 2>&1 || true
fi
exit 0
