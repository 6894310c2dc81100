#!/usr/bin/env bash
# dccm under load for a long time: 64 milter connections sending messages
# without pause through the project's dccm to the project's dccd (both
# release builds), with dccm's resident memory, threads and open
# descriptors, messages/s and latency printed once a minute.
# Usage: scripts/soak-dccm.sh [seconds] [connections]   (defaults 600 and 64)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
conns=${2:-64}
cargo build --release -q -p tally-dccm -p tally-dccd --bins
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/dccm-bench" --soak "$secs" --conns "$conns"
