#!/bin/bash
# testnet.sh - umbra testnet: a local network of real nodes started, used
# and stopped by one command (SPEC "Command line", README quick start).
. "$(dirname "$0")/lib.sh"

# node_pids OUT: the node PIDs listed in a testnet's output.
node_pids() { sed -n 's/^node [0-9]*: pid \([0-9]*\) .*/\1/p' "$1"; }

# ---- usage ----
"$UMBRA" testnet --help > "$TMP/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'usage: umbra testnet' "$TMP/out"
ok $? "umbra testnet --help: exit 0 and the usage"
"$UMBRA" --help | grep -q 'umbra testnet --nodes N --dir DIR'
ok $? "umbra --help lists testnet"
for n in 1 abc 65 ''; do
	"$UMBRA" testnet --nodes "$n" --dir "$TMP/x" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(lines "$TMP/err")" = 1 ] &&
	    grep -q -- '--nodes: expected a number from 2 to 64' "$TMP/err" &&
	    [ ! -s "$TMP/out" ]
	ok $? "testnet --nodes '$n': exit 2, one line saying what is wrong"
done
"$UMBRA" testnet --nodes 3 > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--dir' "$TMP/err"
ok $? "testnet without --dir: exit 2 naming --dir"
"$UMBRA" testnet --nodes 3 --dir "$TMP/x" --max-peers 0 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--max-peers' "$TMP/err"
ok $? "testnet --max-peers 0: exit 2 naming --max-peers"
[ ! -e "$TMP/x" ]; ok $? "bad usage creates nothing"

# ---- five nodes ----
TN=$TMP/tn
K=4			# testnet's default --max-peers
"$UMBRA" testnet --nodes 5 --dir "$TN" > "$TMP/tn.out" 2> "$TMP/tn.err" &
TNPID=$!
PIDS="$PIDS $TNPID"
t0=$SECONDS
wait_line "$TMP/tn.out" '^testnet ready: 5 nodes' "$TNPID" 60
ok $? "testnet --nodes 5: ready within 60 s ($((SECONDS - t0)) s)"
[ "$(stat -c %a "$TN")" = 700 ]; ok $? "DIR is made with mode 0700"
RTN=$(cd "$TN" && pwd -P)
good=0
for i in 1 2 3 4 5; do
	d=$RTN/node$i
	line=$(grep "^node $i: " "$TMP/tn.out")
	echo "$line" | grep -qE "^node $i: pid [0-9]+ datadir $d api 127\.0\.0\.1:[0-9]+ peers [0-9]+\$" &&
	    [ "$(echo "$line" | sed 's/.* api \([^ ]*\) .*/\1/')" = "$(cat "$d/api")" ] &&
	    kill -0 "$(echo "$line" | sed 's/.* pid \([0-9]*\) .*/\1/')" &&
	    [ -s "$d/log" ] &&
	    grep -qE '^127\.0\.0\.1:[0-9]+#[A-Za-z0-9_-]{43}$' "$d/address" ||
	    { diag "node $i: ${line:-no line}"; good=1; }
done
ok $good "one line per node: pid (running), datadir, its api, peers; each logs to DIR/nodeI/log"
[ "$(node_pids "$TMP/tn.out" | sort -u | wc -l)" = 5 ]
ok $? "five distinct node PIDs"
ID1=$(sed 's/.*#//' "$TN/node1/address")	# for the second run
good=0
for i in 1 2 3 4 5; do
	"$UMBRA" status --datadir "$TN/node$i" --json > "$TMP/st$i.json" &&
	    python3 - "$TMP/st$i.json" "$K" <<'PY' || good=1
import json, sys
d = json.load(open(sys.argv[1]))
n = len([p for p in d["peers"] if not p.get("path_link")])  # paths' own
if not 1 <= n <= int(sys.argv[2]):
    print("# %s peers" % n)
    sys.exit(1)
PY
done
ok $good "every node answers status with 1 to $K peers"

# Relay descriptors spread by gossip (docs/onion.md, "Keys"): within 20 s
# every node knows at least 3 others' descriptors, and has an onion key.
t0=$SECONDS
while :; do
	good=0
	for i in 1 2 3 4 5; do
		"$UMBRA" status --datadir "$TN/node$i" --json > "$TMP/st$i.json" &&
		    python3 - "$TMP/st$i.json" <<'PY' || good=1
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["relays_known"] >= 3 and d["onion_key_age"] >= 0 and
         "onion_sk" not in d else 1)
PY
	done
	[ $good = 0 ] || [ $((SECONDS - t0)) -ge 20 ] && break
	sleep 0.5
done
ok $good "every node knows >= 3 relay descriptors within 20 s ($((SECONDS - t0)) s)"

head -c 1000000 /dev/urandom > "$TMP/doc"
timeout 130 "$UMBRA" put --datadir "$TN/node1" "$TMP/doc" > "$TMP/uri" 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && [ "$(lines "$TMP/uri")" = 1 ] && grep -q '^CHK@' "$TMP/uri"
ok $? "put at node 1: one CHK@ line"
U=$(cat "$TMP/uri")
timeout 150 "$UMBRA" get --datadir "$TN/node5" "$U" -o "$TMP/got" 2> "$TMP/err" &&
    cmp -s "$TMP/doc" "$TMP/got"
ok $? "get at node 5: the same bytes"
[ -s "$TMP/err" ] && diag "get: $(cat "$TMP/err")"

# A node that dies is reported; the others keep running.
VICTIM=$(node_pids "$TMP/tn.out" | sed -n 3p)
kill -KILL "$VICTIM"
wait_line "$TMP/tn.err" "node 3 (pid $VICTIM) was killed by signal 9" "$TNPID" 10 &&
    grep -q 'other nodes keep running' "$TMP/tn.err" && kill -0 "$TNPID"
ok $? "a node killed outright is reported; the testnet keeps running"

kill -INT "$TNPID"
wait_gone "$TNPID" 15; rc=$RC
[ "$rc" -eq 0 ]; ok $? "SIGINT: testnet exits 0 within 15 s (status $rc)"
grep -q '^testnet stopped$' "$TMP/tn.out"; ok $? "it prints 'testnet stopped'"
left=""
for p in $(node_pids "$TMP/tn.out"); do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -z "$left" ]; ok $? "every node it started is gone${left:+ (left:$left)}"
grep -v 'node 3 (pid' "$TMP/tn.err" > "$TMP/tn.err2"
[ ! -s "$TMP/tn.err2" ]; ok $? "nothing else on the testnet's stderr"
[ -s "$TMP/tn.err2" ] && diag "stderr: $(head -3 "$TMP/tn.err2")"

# ---- a second run on the same DIR ----
# Readiness files left from a crash must not count: node 3 was killed
# above and kept its; plant a stale api file elsewhere too.
echo 127.0.0.1:1 > "$TN/node2/api"
"$UMBRA" testnet --nodes 5 --dir "$TN" > "$TMP/tn2.out" 2> "$TMP/tn2.err" &
TNPID=$!
PIDS="$PIDS $TNPID"
wait_line "$TMP/tn2.out" '^testnet ready: 5 nodes' "$TNPID" 60
ok $? "a second run on the same DIR is ready within 60 s"
! grep -q 'api 127.0.0.1:1 ' "$TMP/tn2.out" && [ "$(cat "$TN/node2/api")" != 127.0.0.1:1 ]
ok $? "a stale DIR/nodeI/api is not taken for readiness"
[ "$(sed 's/.*#//' "$TN/node1/address")" = "$ID1" ]
ok $? "the nodes keep their identities"
timeout 150 "$UMBRA" get --datadir "$TN/node1" "$U" -o "$TMP/got2" 2>/dev/null &&
    cmp -s "$TMP/doc" "$TMP/got2"
ok $? "and their stores: node 1 still has the document"
kill -TERM "$TNPID"
wait_gone "$TNPID" 15; rc=$RC
[ "$rc" -eq 0 ] && grep -q '^testnet stopped$' "$TMP/tn2.out"
ok $? "SIGTERM: testnet exits 0 within 15 s (status $rc)"
left=""
for p in $(node_pids "$TMP/tn2.out"); do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -z "$left" ]; ok $? "every node of the second run is gone"

for i in 1 2 3 4 5; do
	check_node_log "$TN/node$i/log"
done

done_testing
