#!/usr/bin/env bash
# Run the whole test suite: formatting, lints, unit, property, golden and
# integration tests. Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh >/dev/null || exit 1
# Postfix, sendmail and SpamAssassin for the end-to-end tests (they are skipped, with a
# message, where these cannot be installed or the tests do not run as root)
scripts/e2e-deps.sh || echo "note: Postfix/sendmail/SpamAssassin not installed; end-to-end tests will be skipped"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
echo "== cargo fmt --check"
cargo fmt --all -- --check || status=1
echo "== cargo clippy"
cargo clippy --workspace --all-targets -q -- -D warnings || status=1
cargo clippy -p tally-store --all-targets --features redb,fjall -q -- -D warnings || status=1
echo "== cargo test"
cargo test --workspace --release --no-fail-fast 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
echo "== the storage implementations kept for comparison (tally-store features redb, fjall)"
cargo test -p tally-store --release --features redb,fjall 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) n += $i } END { print n+0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) n += $i } END { print n+0 }' "$log")
echo
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit $status
