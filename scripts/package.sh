#!/usr/bin/env bash
# Build the Debian package of tally from the release binaries:
#   scripts/package.sh            -> target/debian/tally_<version>_<arch>.deb
#   scripts/package.sh --no-build    the same from the release binaries as they are
# It holds the programs, every manual page in man/ (sections 5 and 8), the
# systemd units of packaging/systemd, the default dcc_conf and the maintainer
# scripts of packaging/debian. Built with dpkg-deb (Debian's own tool), so
# that nothing is installed to build it; the release binaries are built with
# cargo when missing or older than the sources (into CARGO_TARGET_DIR when
# set), and reused otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

bins_user=(dccproc dccsight cdcc)
bins_admin=(dccd dccm dccifd dbclean dblist start-dccd start-grey start-dccm start-dccifd cron-dccd dcc-web webuser-notify)
target=${CARGO_TARGET_DIR:-target}
out_dir=target/debian

need=()
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
command -v gzip >/dev/null 2>&1 || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then
    echo "package.sh: missing ${need[*]}" >&2
    exit 1
fi

args=()
for b in "${bins_user[@]}" "${bins_admin[@]}"; do args+=(--bin "$b"); done
if [ "${1:-}" != --no-build ]; then
    cargo build --release -q "${args[@]}"
fi
for b in "${bins_user[@]}" "${bins_admin[@]}"; do
    if [ ! -x "$target/release/$b" ]; then
        echo "package.sh: $target/release/$b missing (cargo build --release --bin $b)" >&2
        exit 1
    fi
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/sbin" "$root/lib/systemd/system" \
    "$root/usr/share/tally" "$root/usr/share/doc/tally" \
    "$root/usr/share/man/man5" "$root/usr/share/man/man8"

for b in "${bins_user[@]}"; do install -m 755 "$target/release/$b" "$root/usr/bin/$b"; done
for b in "${bins_admin[@]}"; do install -m 755 "$target/release/$b" "$root/usr/sbin/$b"; done
strip --strip-debug "$root"/usr/bin/* "$root"/usr/sbin/* 2>/dev/null || true

pages=0
for page in man/*.5 man/*.8; do
    [ -e "$page" ] || continue
    sec=${page##*.}
    gzip -9nc "$page" > "$root/usr/share/man/man$sec/$(basename "$page").gz"
    pages=$((pages + 1))
done
install -m 644 packaging/systemd/*.service packaging/systemd/*.timer "$root/lib/systemd/system/"
install -m 644 packaging/dcc_conf "$root/usr/share/tally/dcc_conf"
install -m 644 README.md docs/operations.md docs/web.md "$root/usr/share/doc/tally/"
cat > "$root/usr/share/doc/tally/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tally
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3.
EOF
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
    "$root/DEBIAN/"

# the shared libraries the programs need, as dpkg-shlibdeps finds them
depends="libc6, libgcc-s1"
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
    mkdir -p "$stage/debian"
    printf 'Source: tally\n\nPackage: tally\nArchitecture: any\n' > "$stage/debian/control"
    found=$(cd "$stage" && dpkg-shlibdeps -O root/usr/sbin/* root/usr/bin/* 2>/dev/null |
        sed -n 's/^shlibs:Depends=//p') || true
    [ -z "$found" ] || depends=$found
fi
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: tally
Version: $version
Architecture: $arch
Maintainer: tally developers <tally@localhost>
Installed-Size: $size
Depends: $depends, passwd
Section: mail
Priority: optional
Description: Distributed Checksum Clearinghouse (DCC), a re-implementation
 tally re-implements the DCC anti-spam programs: dccproc, dccsight, the dccm milter,
 the dccifd daemon, the dccd server (also as greylist server), cdcc,
 dbclean and dblist, with the original's options and files. systemd units
 start the daemons from the original's /var/dcc/dcc_conf, and a timer runs
 the daily maintenance (cron-dccd).
EOF

mkdir -p "$out_dir"
deb=$out_dir/tally_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz -z6 --build "$root" "$deb" >/dev/null
echo "$deb ($(du -k "$deb" | cut -f1) kB, ${#bins_user[@]} + ${#bins_admin[@]} programs, $pages manual pages)"
