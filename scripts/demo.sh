#!/usr/bin/env bash
# Build tally and run its main job on the embedded default: a local dccd with its
# embedded store on 127.0.0.1, and dccproc reporting a sample message to it twice,
# so the count rises from 1 to 2. Everything lives in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh >/dev/null
echo "== building (release)"
cargo build --release -q -p tally-dccd -p tally-dccproc -p tally-cdcc
bin=target/release
port=${TALLY_DEMO_PORT:-26277}
work=$(mktemp -d)
server=$work/server
client=$work/client
mkdir -p "$server" "$client"
cleanup() {
    if [ -s "$server/dccd.pid" ]; then kill "$(cat "$server/dccd.pid")" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# the server: its ids file names the client-ID 32800 and the server's own ID 1100
printf '32800 demo-client-secret\n1100 demo-server-secret\n' > "$server/ids"
chmod 600 "$server/ids"
echo "== starting dccd -i 1100 -n tally-demo on 127.0.0.1,$port (store in $server)"
"$bin/dccd" -i 1100 -n tally-demo -h "$server" -a "127.0.0.1,$port" 2> "$work/dccd.log"
for _ in $(seq 50); do [ -s "$server/dccd.pid" ] && break; sleep 0.1; done
[ -s "$server/dccd.pid" ] || { cat "$work/dccd.log"; echo "dccd did not start"; exit 1; }

# the client: its map names the server, and a whitelist blacklists one sender
echo "127.0.0.1,$port 32800 demo-client-secret" > "$client/map"
echo "many env_From spammer@example.com" > "$client/whiteclnt"

sample=testdata/corpus/messages/spamassassin/sample-spam.txt
for n in 1 2; do
    echo
    echo "== dccproc report #$n of $sample (dccproc -H: print the X-DCC header)"
    "$bin/dccproc" -h "$client" -w whiteclnt -H -a 192.0.2.1 -f alice@example.com -i "$sample"
done
echo
echo "== the checksums of the last report (dccproc -Q -C: query only, nothing counted)"
"$bin/dccproc" -h "$client" -w whiteclnt -Q -C -a 192.0.2.1 -f alice@example.com -i "$sample"
echo
echo "== a blacklisted sender: bulk, exit code 1 with -x 1"
set +e
"$bin/dccproc" -h "$client" -w whiteclnt -H -x 1 -a 192.0.2.1 -f spammer@example.com -i "$sample"
echo "exit code: $?"
set -e
echo
echo "== cdcc stats (server-ID 1100 and its password)"
"$bin/cdcc" -h "$client" "host 127.0.0.1; port $port; id 1100; password demo-server-secret; stats" | head -12
