#!/usr/bin/env bash
# Install what the end-to-end tests (crates/e2e) need on Debian: Postfix,
# SpamAssassin with spamc, headless Chromium with ChromeDriver, and sendmail
# unpacked into a private tree.
# Idempotent and quiet.
#
# Postfix is preseeded as "No configuration" and the packaged system instance
# is kept from starting (a temporary policy-rc.d refuses service starts during
# the install; an instance started anyway is stopped). The tests run their own
# throw-away instances with private configuration directories.
#
# Debian's sendmail-bin conflicts with postfix, so sendmail is not installed:
# sendmail-bin, sendmail-base and sendmail-cf are downloaded and unpacked
# with dpkg-deb into $SENDMAIL_TREE (never into /), and the libraries the
# binary needs (plus m4 for the .mc files) are installed normally. The
# sendmail test (crates/e2e/tests/sendmail.rs) runs its own daemon from
# that tree with a private configuration.
set -euo pipefail

SENDMAIL_CACHE=/var/cache/tally-e2e/sendmail
SENDMAIL_TREE=$SENDMAIL_CACHE/root

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

need=()
command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || need+=(postfix)
dpkg -s spamassassin >/dev/null 2>&1 || need+=(spamassassin)
dpkg -s spamc >/dev/null 2>&1 || need+=(spamc)
dpkg -s m4 >/dev/null 2>&1 || need+=(m4)
# headless Chromium and ChromeDriver for the browser tests (the statistics page, the per-user pages)
dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s chromium-driver >/dev/null 2>&1 || need+=(chromium-driver)

apt_quiet() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -q "$@" >/dev/null
}

# Download and unpack the sendmail packages unless the tree is complete.
# The library packages sendmail-bin depends on go into `need`. A failure
# here only costs the sendmail test (it is skipped), not the others.
sendmail_tree() {
    local sm=$SENDMAIL_TREE/usr/libexec/sendmail/sendmail
    local cf=$SENDMAIL_TREE/usr/share/sendmail/cf/m4/cf.m4
    if [ ! -x "$sm" ] || [ ! -f "$cf" ] || [ ! -f "$SENDMAIL_CACHE/libs" ]; then
        local dl=$SENDMAIL_CACHE/download
        local pkgs=(sendmail-bin sendmail-base sendmail-cf)
        $sudo rm -rf "$dl" && $sudo mkdir -p "$dl/root" || return 1
        # apt-get download writes into the current directory; as root it
        # cannot hand the download to the _apt user
        get() {
            (cd "$dl" && $sudo apt-get download -q -q \
                -o APT::Sandbox::User=root "${pkgs[@]}" >/dev/null)
        }
        if ! get 2>/dev/null; then
            apt_quiet update || return 1
            get || return 1
        fi
        local deb
        for deb in "$dl"/*.deb; do
            $sudo dpkg-deb -x "$deb" "$dl/root" || return 1
        done
        # the lib* packages among sendmail-bin's dependencies
        local deps
        deps=$(dpkg-deb -f "$dl"/sendmail-bin_*.deb Depends) || return 1
        printf '%s\n' "$deps" | tr ',' '\n' \
            | sed -e 's/[|(].*//' -e 's/[[:space:]]//g' \
            | { grep '^lib' || true; } | $sudo tee "$dl/libs" >/dev/null
        $sudo rm -rf "$SENDMAIL_TREE" "$SENDMAIL_CACHE/libs" || return 1
        $sudo mv "$dl/root" "$SENDMAIL_TREE" || return 1
        $sudo mv "$dl/libs" "$SENDMAIL_CACHE/libs" || return 1
        $sudo rm -rf "$dl"
    fi
    local lib
    while read -r lib; do
        [ -n "$lib" ] || continue
        dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
    done <"$SENDMAIL_CACHE/libs"
}
sendmail_tree || echo "note: sendmail could not be unpacked into $SENDMAIL_TREE; its end-to-end test will be skipped" >&2

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
    apt_quiet install -y --no-install-recommends "${need[@]}"
}
if ! apt_install 2>/dev/null; then
    apt_quiet update
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
