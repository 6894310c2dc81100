#!/usr/bin/env bash
# tally against its own builds from before issue 13, in the same run, as
# stand-ins for the original DCC (which is not on the machine).
#
# engine: the checksum engine against that of the last commit before the
#   issue's work on it. The original was measured side by side with that
#   build when the issue was filed: the build was 3.2 times as fast on the
#   20 MB plain-text message and 2.5 times on the 20 MB HTML message (the
#   original's corpus figure was not recorded). Today's build against
#   that build, alternated on the same CPU, times those ratios, estimates
#   today's ratio to the original whatever the machine's speed today.
# dccd: dccd-bench's issue 13 set-up (QUERY at 16 in flight, REPORT at 64)
#   against the dccd of the last commit before the issue's work on dccd,
#   given as `--original`. This one gives no ratio to the original: the
#   issue's figures (that dccd 103k QUERY/s and 71k REPORT/s, the original
#   80k and 65k) were taken with an older load driver that held that
#   dccd back (with today's driver it does 1.6 to 2 times as many), so only
#   the server CPU per request compares the two builds.
#
# Usage: scripts/bench-before.sh [engine|dccd] [rounds] [cpu]
#   engine (default): each round runs both tally-benches once (`--runs 3`,
#     pinned to CPU `cpu`, default 1), the older first; the best figure of
#     each build over the rounds (default 3) is compared.
#   dccd: `rounds` runs of 5 s (default 3), server on CPU 0, load on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-engine}
rounds=${2:-3}
cpu=${3:-1}
target=${CARGO_TARGET_DIR:-target}
case $mode in
  # the last commit before issue 13's work on the engine
  engine) before=7a4ccb625052dc9b0d58a3cebfe00dbf12f14143 ;;
  # the last commit before issue 13's work on dccd (batched datagrams)
  dccd) before=a03600b5de2c810e145153d2f17ee31e57ba5a81 ;;
  *)
    echo "usage: scripts/bench-before.sh [engine|dccd] [rounds] [cpu]" >&2
    exit 64
    ;;
esac
if ! git cat-file -e "$before^{commit}" 2>/dev/null; then
  echo "bench-before: commit $before is not in this clone (a shallow clone?)" >&2
  exit 1
fi
wt="$target/bench-before/$mode"
if [ ! -d "$wt" ]; then
  git worktree prune
  mkdir -p "$target/bench-before"
  git worktree add --detach "$wt" "$before" >/dev/null 2>&1
fi
old_target="$target/bench-before/target-$mode"
echo "building commit ${before:0:7} and this tree" >&2

if [ "$mode" = dccd ]; then
  CARGO_TARGET_DIR="$old_target" cargo build --release -q \
    --manifest-path "$wt/Cargo.toml" -p tally-dccd -p tally-dbtools --bins
  cargo build --release -q -p tally-dccd -p tally-dbtools --bins
  echo "'original' below is tally's dccd of commit ${before:0:7}, before issue 13"
  DCCD_BENCH_PIN=1 "$target/release/dccd-bench" "$rounds" 0 q16,r64 \
    --original "$old_target/release/dccd"
  exit
fi

CARGO_TARGET_DIR="$old_target" cargo build --release -q \
  --manifest-path "$wt/Cargo.toml" -p tally-bench
cargo build --release -q -p tally-bench
old="$old_target/release/tally-bench"
new="$target/release/tally-bench"

pin=()
if command -v taskset >/dev/null && taskset -c "$cpu" true 2>/dev/null; then
  pin=(taskset -c "$cpu")
fi

# one figure per line: part and value, from a tally-bench table
figures() {
  "${pin[@]}" "$1" --runs 3 | awk '
    /20 MB plain-text message/ { print "plain", $NF }
    /20 MB HTML message/       { print "html", $NF }
    /msgs\/s/                  { print "corpus", $NF }'
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds" >&2
  figures "$old" | sed 's/^/before /' >>"$out"
  figures "$new" | sed 's/^/now /' >>"$out"
done

"$new" --runs 1 --mb 1 --no-corpus | sed -n '1,/^$/p' | grep -v -e '^$' -e '^original DCC' || true
awk -v rounds="$rounds" '
  { v = $3 + 0; k = $1 " " $2; if (!(k in best) || v > best[k]) best[k] = v
    all[k] = all[k] " " $3 }
  END {
    split("plain html corpus", parts, " ")
    name["plain"] = "20 MB plain text (MB/s)"
    name["html"] = "20 MB HTML (MB/s)"
    name["corpus"] = "corpus (msgs/s)"
    orig["plain"] = 3.2; orig["html"] = 2.5
    printf "\nbest of %d alternated rounds, each the best of 3 runs\n", rounds
    printf "%-26s %10s %10s %8s %14s\n", "", "before", "now", "ratio", "vs original"
    for (i = 1; i <= 3; i++) {
      p = parts[i]; b = best["before " p]; n = best["now " p]
      if (b == 0) continue
      est = (p in orig) ? sprintf("x%.1f", n / b * orig[p]) : "not recorded"
      printf "%-26s %10.1f %10.1f %8.2f %14s\n", name[p], b, n, n / b, est
    }
    printf "\nevery run: before%s | now%s (plain)\n", all["before plain"], all["now plain"]
    printf "every run: before%s | now%s (HTML)\n", all["before html"], all["now html"]
    printf "every run: before%s | now%s (corpus)\n", all["before corpus"], all["now corpus"]
  }' "$out"
