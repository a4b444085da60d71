#!/bin/bash
# demo.sh - the README's first command ends here, with SPEC's main job: a
# local network of five nodes on loopback (umbra testnet), a document
# inserted at node 1, its key printed, the document fetched by that key
# at node 5 and the bytes compared. Every wait is bounded; any failure
# ends with one line saying what failed and a non-zero exit.
# Runs from the build directory (where ./umbra is) or with UMBRA set.
set -u
UMBRA=${UMBRA:-./umbra}
NODES=5
dir=$(mktemp -d "${TMPDIR:-/tmp}/umbra-demo.XXXXXX") || exit 1
net=$dir/net
pid=""

fail() { echo "demo: FAILED: $*" >&2; exit 1; }

# stop_testnet: SIGINT, as Ctrl-C would; it stops its nodes within 10 s.
stop_testnet() {
	[ -n "$pid" ] || return 0
	kill -INT "$pid" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	pid=""
	return $rc
}
trap 'stop_testnet; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

[ -x "$UMBRA" ] || fail "no umbra binary at $UMBRA (build first, or set UMBRA)"

echo "== starting a network of $NODES nodes in $net"
"$UMBRA" testnet --nodes $NODES --dir "$net" --log-level warn \
    > "$dir/testnet.out" 2> "$dir/testnet.err" &
pid=$!
# 90 s: beyond the testnet's own bounds (10 s a node, then 30 s for links)
for _ in $(seq 900); do
	grep -q '^testnet ready' "$dir/testnet.out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q '^testnet ready' "$dir/testnet.out" ||
    fail "the network did not come up: $(tail -1 "$dir/testnet.err")"
sed 's/^/   /' "$dir/testnet.out"

doc=$dir/hello.txt
{
	echo "Hello from Umbra, $(date -u +%Y-%m-%dT%H:%M:%SZ)."
	head -c 200000 /dev/urandom | od -An -tx1
} > "$doc"
echo "== inserting $(wc -c < "$doc") bytes at node 1"
uri=$(timeout 150 "$UMBRA" put --datadir "$net/node1" "$doc" 2> "$dir/put.err") ||
    fail "put at node 1: $(tail -1 "$dir/put.err")"
[ -s "$dir/put.err" ] && sed 's/^/   /' "$dir/put.err"
echo "key: $uri"
echo "== fetching it by its key at node $NODES"
timeout 150 "$UMBRA" get --datadir "$net/node$NODES" "$uri" -o "$dir/fetched" \
    2> "$dir/get.err" || fail "get at node $NODES: $(tail -1 "$dir/get.err")"
cmp -s "$doc" "$dir/fetched" ||
    fail "the bytes fetched at node $NODES differ from those inserted at node 1"
echo "== OK: node $NODES fetched by its key the $(wc -c < "$doc") bytes" \
    "inserted at node 1, identical"
echo "== stopping the network"
stop_testnet || fail "the testnet did not stop cleanly: $(tail -1 "$dir/testnet.err")"
tail -1 "$dir/testnet.out"
