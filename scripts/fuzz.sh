#!/usr/bin/env bash
# A short run of every fuzz target (cargo fuzz, libFuzzer, stable toolchain).
# Usage: scripts/fuzz.sh [seconds per target]   (default 30)
# The seed is fixed (FUZZ_SEED, default 1) and every run starts from the
# corpus kept in the repository (fuzz/corpus/<target>.tar.xz, grown by the long
# runs of scripts/fuzz-long.sh), so each run first replays every kept input,
# earlier crashes' regressions included, then explores the same inputs each
# time: CI does not fail by chance. Use FUZZ_SEED=0 (libFuzzer picks one) to
# explore further.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked -q
targets=$(cargo fuzz list)
for t in $targets; do
    echo "== fuzz $t for ${secs}s"
    # -s none: no sanitizer, so that the stable toolchain suffices; the
    # unsafe x86-64 kernels of the checksum engine get AddressSanitizer in
    # the long runs (FUZZ_SANITIZER=address scripts/fuzz-long.sh)
    log=$(mktemp)
    corpus=$(mktemp -d)
    [ -f "fuzz/corpus/$t.tar.xz" ] && tar -xJf "fuzz/corpus/$t.tar.xz" -C "$corpus"
    rc=0
    cargo fuzz run -s none "$t" "$corpus" -- -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1 || rc=$?
    grep -E '^Done|panicked|ERROR|SUMMARY|crash-' "$log" || true
    if [ "$rc" != 0 ]; then
        tail -40 "$log"
        echo "fuzz target $t failed"
        exit 1
    fi
    rm -rf "$log" "$corpus"
done
