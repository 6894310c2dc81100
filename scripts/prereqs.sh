#!/usr/bin/env bash
# Install what building and testing tally needs on a Debian machine:
# a C compiler (for libFuzzer), pkg-config, and a Rust toolchain when none is present;
# the tools of the Debian package and its test.
set -euo pipefail
need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cargo >/dev/null 2>&1 || need+=(cargo rustc)
# the Debian package: dpkg-deb and dpkg-shlibdeps to build it, systemd-analyze to
# verify its units, man to read its pages
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v man >/dev/null 2>&1 || need+=(man-db)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
cargo --version
