#!/usr/bin/env bash
# Long fuzz runs, outside CI: every target (or those named) for MINUTES each,
# JOBS targets at a time, seeded from the repository's test data
# (fuzz/seeds.py) and from the kept corpus (fuzz/corpus/<target>.tar.xz).
# After each run the corpus is minimised (libFuzzer -merge=1) and packed back
# into fuzz/corpus/<target>.tar.xz, and a line is added to fuzz/runs.tsv:
#   date  target  seconds  executions  cov  ft  corpus-files  result  cov-at-start
# (cov: edges reached, as libFuzzer counts them; at start: after the seeds)
# A crash leaves its input in fuzz/artifacts/<target>/ and the run's log in
# the work folder; the script then exits non-zero after the other runs end.
#
# FUZZ_SANITIZER=address builds the targets with AddressSanitizer, which
# catches a read or write past a buffer in the engine's unsafe x86-64 kernels
# that would otherwise go unseen (at less than half the speed); the stable
# compiler accepts the flag with RUSTC_BOOTSTRAP=1, set for the build only.
#
# Usage: scripts/fuzz-long.sh MINUTES [JOBS] [TARGET ...]
#   e.g. scripts/fuzz-long.sh 15 2          all targets, 15 min each, 2 at a time
#        FUZZ_NICE=19 scripts/fuzz-long.sh 20 1 message
#        FUZZ_SANITIZER=address scripts/fuzz-long.sh 30 1 kernels message
set -euo pipefail
cd "$(dirname "$0")/.."
mins=${1:?minutes per target}
jobs=${2:-1}
shift $(($# >= 2 ? 2 : $#))
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked -q
san=${FUZZ_SANITIZER:-none}
if [ "$san" = none ]; then
    cargo fuzz build -s none
else
    RUSTC_BOOTSTRAP=1 cargo fuzz build -s "$san"
fi
bin=fuzz/target/x86_64-unknown-linux-gnu/release
targets=${*:-$(cargo fuzz list)}
work=${FUZZ_WORK:-$(mktemp -d)}
echo "work folder: $work"
python3 fuzz/seeds.py "$work/seeds" >/dev/null
mkdir -p fuzz/corpus fuzz/artifacts
[ -f fuzz/runs.tsv ] || printf 'date\ttarget\tseconds\texecutions\tcov\tft\tcorpus\tresult\tcov-at-start\n' >fuzz/runs.tsv

run_one() {
    local t=$1 dir="$work/$1" rc=0
    mkdir -p "$dir/corpus" "$dir/min" "$dir/seeds" "fuzz/artifacts/$t"
    [ -f "fuzz/corpus/$t.tar.xz" ] && tar -xJf "fuzz/corpus/$t.tar.xz" -C "$dir/corpus"
    [ -d "$work/seeds/$t" ] && cp -r "$work/seeds/$t/." "$dir/seeds/"
    local start=$SECONDS
    nice -n "${FUZZ_NICE:-10}" "$bin/$t" "$dir/corpus" "$dir/seeds" \
        -max_total_time=$((mins * 60)) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
        >"$dir/log" 2>&1 || rc=$?
    local secs=$((SECONDS - start))
    "$bin/$t" -merge=1 "$dir/min" "$dir/corpus" >"$dir/merge.log" 2>&1 || true
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -cJf "fuzz/corpus/$t.tar.xz" -C "$dir/min" .
    local execs cov ft files cov0 result=ok
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    files=$(find "$dir/min" -type f | wc -l)
    cov0=$(grep -o 'INITED cov: [0-9]*' "$dir/log" | head -1 | cut -d' ' -f3)
    [ "$rc" = 0 ] || { result="failed rc=$rc"; echo "$t: see $dir/log"; }
    [ "$san" = none ] || result="$result ($san)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$t" "$secs" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "$files" "$result" "${cov0:-?}" >>fuzz/runs.tsv
    echo "== $t: $secs s, ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, $files corpus files: $result"
    [ "$rc" = 0 ]
}
export -f run_one
export work mins bin san
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one {}'
