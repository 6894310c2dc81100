#!/usr/bin/env bash
# Build tally and run its main job on an embedded default: dccproc computes the
# DCC checksums of a sample message, applies a whitelist, and adds the X-DCC header.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh >/dev/null
cargo build --release -q --bin dccproc
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/whiteclnt" <<'WL'
# the sample's sender is a known spammer
many env_From spammer@example.com
WL
sample=testdata/corpus/messages/spamassassin/sample-spam.txt
echo "== dccproc -C -a 192.0.2.1 -f alice@example.com (checksums of a sample message)"
target/release/dccproc -h "$home" -C -a 192.0.2.1 -f alice@example.com -i "$sample" || true
echo
echo "== the same message from a blacklisted sender, with -x 1 (exit code 1 = spam)"
set +e
target/release/dccproc -h "$home" -H -x 1 -a 192.0.2.1 -f spammer@example.com -i "$sample"
echo "exit code: $?"
