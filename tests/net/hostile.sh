#!/bin/bash
# hostile.sh - a node under a hostile peer (tests/net/evil_peer.c): broken
# handshakes, bad frames, a flood, a peer that never reads and blocks that
# do not match, and onion paths with the node as their exit built,
# replayed, flooded and broken (docs/onion.md). Each must cost the peer
# its link or its path and nothing more: the node keeps running, keeps
# its good peer, serves a document through it and stays under 256 MiB
# (SPEC "Errors and bad input"). Then what a node must not serve: its
# own documents to a prober, an old held block to a peer that reused the
# block's insert id.
. "$(dirname "$0")/lib.sh"

TOP=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EVIL=${EVIL_PEER:-$TOP/tests/net/evil_peer}
A=$TMP/a
B=$TMP/b
mkdir -p "$A" "$B"
# As in big_upload.sh: ASan's shadow memory and quarantine are not the
# node's, so a sanitizer build gets a bound of 768 MiB.
LIMIT_MIB=256
if [ "${UMBRA_SANITIZED:-0}" = 1 ] ||
    nm "$UMBRA" 2>/dev/null | grep -q __asan_init ||
    grep -qa __asan_init "$UMBRA" 2>/dev/null; then
	LIMIT_MIB=768
	diag "sanitizer build: RSS bound raised from 256 to $LIMIT_MIB MiB"
fi

# npeers DIR: how many peers the node in DIR reports (-1 if no answer).
npeers() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
print(len(json.load(sys.stdin)["peers"]))' 2>/dev/null || echo -1
}

# identity DIR: the public key of the node in DIR, base64url.
identity() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["identity"])'
}

# has_peer DIR IDENTITY: the node in DIR lists IDENTITY among its peers.
has_peer() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(p["identity"] == sys.argv[1]
                  for p in json.load(sys.stdin)["peers"]) else 1)' "$2"
}

# wait_for SECONDS CMD...: runs CMD every 0.5 s until it succeeds.
wait_for() {
	local secs=$1 t0=$SECONDS
	shift
	until "$@"; do
		[ $((SECONDS - t0)) -ge "$secs" ] && return 1
		sleep 0.5
	done
}

at_least_one_peer() { [ "$(npeers "$1")" -ge 1 ]; }

# relayed DIR: relayed_paths in the status of the node in DIR ("none" if
# it has no such field, -1 if no answer).
relayed() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin).get("relayed_paths", "none"))' 2>/dev/null ||
	    echo -1
}
no_relayed_paths() { [ "$(relayed "$1")" = 0 ]; }

# log_mark, then log_since: the lines A logged in between.
log_mark() { MARK=$(wc -l < "$A.log"); }
log_since() { tail -n +$((MARK + 1)) "$A.log"; }

# evil NAME SCENARIO [ARG]: runs one scenario against A; exit 0 expected.
evil() {
	local name=$1
	shift
	timeout 90 "$EVIL" "$1" "$ADDR" "${@:2}" > "$TMP/evil.out" 2>&1
	local rc=$?
	diag "$(tail -1 "$TMP/evil.out")"
	ok $rc "$name"
}

# through_a NAME SCENARIO SECONDS: runs a scenario that waits for A to
# route a REQUEST to it, while gets at B of a key nobody has go B -> A ->
# the evil peer (A's only other peer). MISSING is that key.
through_a() {
	local name=$1 pid rc
	timeout 90 "$EVIL" "$2" "$ADDR" "$3" > "$TMP/evil.out" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	for _ in $(seq 70); do
		kill -0 "$pid" 2>/dev/null || break
		timeout 15 "$UMBRA" get --datadir "$B" "${DIRECT[@]}" \
		    "$MISSING" > /dev/null 2>&1
		sleep 1
	done
	stop_pid "$pid"
	rc=$?
	sed 's/^# //; s/^/# /' "$TMP/evil.out"
	ok $rc "$name"
}

# ---- two good nodes, linked ----
[ -x "$EVIL" ]; ok $? "evil_peer is built ($EVIL)"
start_node "$A"; ok $? "node A starts"
PID_A=$NODE_PID
wait_for 10 test -s "$A/address"; ok $? "A writes DIR/address"
ADDR=$(cat "$A/address")
start_node "$B" --peer "$ADDR"; ok $? "node B starts with --peer A"
PID_B=$NODE_PID
wait_for 20 at_least_one_peer "$A" && wait_for 20 at_least_one_peer "$B"
ok $? "A and B are linked within 20 s"
ID_B=$(identity "$B")

head -c $((1024 * 1024)) /dev/urandom > "$TMP/doc"
# Put at B: its insert leaves the blocks in A's cache, which A serves to
# peers (a node never serves its own documents: that would name it as
# their author to any neighbour that asks). Two nodes build no onion
# path: the put and the gets go straight ("${DIRECT[@]}", lib.sh).
URI=$("$UMBRA" put --datadir "$B" "${DIRECT[@]}" "$TMP/doc" 2>/dev/null)
RKEY=$("$EVIL" rkey "$URI")
[ ${#RKEY} -eq 64 ]; ok $? "a 1 MiB document put at B, cached at A; its routing key ($RKEY)"
# One character of the routing key changed: a valid URI of nothing.
k=${URI:4:1}; [ "$k" = A ] && n=B || n=A
MISSING="CHK@$n${URI:5}"

# ---- broken handshakes ----
evil "a good peer gets PONG for PING (the control case)" ping
evil "msg1 of version 2: closed within 3 s" version
grep -q 'speaks protocol version 2' "$A.log"
ok $? "A logs that the peer speaks protocol version 2"
evil "random bytes for msg1: closed within 3 s" garbage
evil "msg3 with a bad signature: closed within 3 s, no frame sent" badsig
evil "100 silent connections do not lock a new peer out" slowloris 100

# ---- bad frames ----
evil "half a frame, then silence: closed within 10 s" truncated
evil "frame class 7: closed" class
evil "a replayed frame: closed" replay
evil "nonzero padding under a valid tag: closed" padding
evil "message type 99: closed" type

# ---- blocks ----
name="unasked DATA: ignored or closed; a random INSERT: answered;"
through_a "$name DATA not matching the key asked for: closed" badblock 40

# ---- load ----
evil "20000 REQUESTs while reading: done within 60 s, link up or closed" flood
through_a "after the flood A still routes others' requests (within 20 s)" \
    relay 20
evil "REQUESTs for a held block, never read: closed by the queue cap" \
    noread "$RKEY"
# 31 at once: with B, as many links as A takes (32), each queue capped.
pids=""
for i in $(seq 31); do
	timeout 90 "$EVIL" noread "$ADDR" "$RKEY" > "$TMP/noread.$i" 2>&1 &
	pids="$pids $!"
done
PIDS="$PIDS $pids"
bad=0
for p in $pids; do	# each ends within its own 30 s, timeout 90 or not
	wait "$p" || bad=$((bad + 1))
done
diag "$(cat "$TMP"/noread.* | grep -c '^ok') of 31 closed by the node"
grep -h '^FAIL' "$TMP"/noread.* | sed 's/^/# /'
[ $bad -eq 0 ]; ok $? "31 peers at once that never read: each closed"
evil "a good peer still gets PONG for PING after all that" ping

# ---- onion paths, A their exit (docs/onion.md) ----
# The evil peer is the origin of 1-hop paths: A's onion key from its
# RELAYS, BUILDs and cells made by crypto/onion.c, every cell meant to
# break the chain checked first against the exit's state (we hold its
# keys). A routes the exit's streams through B and the evil peer, which
# answers DNF or RNF (cellflood holds the INSERTs, so that more than 64
# streams are in flight at once).
evil "a path with A as exit: BUILT; a REQUEST for a key nobody has: a FAIL cell that opens and parses; a cell for an unknown path id ignored" \
    path
log_mark
evil "BUILDs whose records do not open (another onion key, random bytes): BUILD_FAIL each, link up" \
    buildforged
log_since | grep -qi 'path.*\(ended\|refused\)'
ok $? "A logs the BUILDs that do not open"
evil "a path's BUILD replayed under a new path id: BUILD_FAIL, link up" \
    buildreplay
evil "a BUILD body one byte short: closed" buildshort
evil "a BUILD body one byte long: closed" buildlong
evil "a BUILD whose path id has A's side of bit 63: closed" buildside
evil "a BUILD under a path id live on the link: closed" buildreuse
evil "300 BUILDs at once, each answered; then paced: 256 paths through one peer at most, BUILD_FAIL past them, the link up" \
    buildflood 300
"$UMBRA" status --datadir "$A" > /dev/null 2>&1
ok $? "A's status answers after the flood of BUILDs"
if [ "$(relayed "$A")" = none ]; then
	skip "A's relayed_paths back to 0 once the flooding link is gone" \
	    "status --json has no relayed_paths"
else
	wait_for 10 no_relayed_paths "$A"
	ok $? "A's relayed_paths back to 0 within 10 s of the flooding link's end ($(relayed "$A"))"
fi
for s in cellalter cellorder cellreplay; do
	log_mark
	case $s in
	cellalter) what="a cell with one byte altered" ;;
	cellorder) what="two cells sent in the wrong order" ;;
	cellreplay) what="a cell sent twice" ;;
	esac
	evil "$what: BUILD_FAIL for its path, the link up" $s
	log_since | grep -qi 'path.*ended'
	ok $? "A logs the path it tore down after $what"
done
evil "a CELL body one byte short: closed" cellshort
evil "3 paths with 100 INSERT cells each (over 64 streams): each torn down, the link up" \
    cellflood 3
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID_A/status")
diag "A's peak RSS after the floods of cells: $((${hwm:-0} / 1024)) MiB"
[ "${hwm:-999999999}" -lt $((LIMIT_MIB * 1024)) ]
ok $? "A's peak RSS after the floods of cells is under $LIMIT_MIB MiB"
evil "a good peer still gets PONG for PING after the paths" ping

# ---- A afterwards ----
kill -0 "$PID_A" 2>/dev/null; ok $? "A is still running"
"$UMBRA" status --datadir "$A" > /dev/null 2>&1
ok $? "A's status still answers"
wait_for 10 has_peer "$A" "$ID_B"; ok $? "A still has B as a peer"
timeout 60 "$UMBRA" get --datadir "$A" "${DIRECT[@]}" "$URI" > "$TMP/got" \
    2>/dev/null &&
    cmp -s "$TMP/doc" "$TMP/got"
ok $? "get at A of B's 1 MiB document: the same bytes"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID_A/status")
diag "A's peak RSS: $((${hwm:-0} / 1024)) MiB"
[ "${hwm:-999999999}" -lt $((LIMIT_MIB * 1024)) ]
ok $? "A's peak RSS is under $LIMIT_MIB MiB"
stop_node "$PID_B"; ok $? "B stops cleanly"
stop_node "$PID_A"; ok $? "A stops cleanly"
check_node_log "$A.log"
check_node_log "$B.log"

# ---- eclipse: fresh identities that claim to have no links ----
# A full node gives a newcomer with no links a slot, closing the link of
# a peer that has others. Nobody can check the claim, and identities are
# free: two of them must not take both slots of E (--max-peers 2) from
# F and G, linked to E and to each other.
E=$TMP/e
F=$TMP/f
G=$TMP/g
mkdir -p "$E" "$F" "$G"
start_node "$E" --max-peers 2; rc=$?
PID_E=$NODE_PID
wait_for 10 test -s "$E/address" || rc=1
start_node "$G" --peer "$(cat "$E/address")" || rc=1
PID_G=$NODE_PID
wait_for 10 test -s "$G/address" || rc=1
start_node "$F" --peer "$(cat "$E/address")" --peer "$(cat "$G/address")" ||
    rc=1
PID_F=$NODE_PID
ok $rc "E (--max-peers 2), F and G start"
two_peers() { [ "$(npeers "$1")" -ge 2 ]; }
wait_for 20 two_peers "$E" && wait_for 20 two_peers "$F" &&
    wait_for 20 two_peers "$G"
ok $? "E, F and G are linked in a triangle"
sleep 6		# a HELLO round (5 s): E learns that F and G have links
hold=""
for i in 1 2; do
	timeout 30 "$EVIL" hold "$(cat "$E/address")" 10 > "$TMP/hold.$i" 2>&1 &
	hold="$hold $!"
done
PIDS="$PIDS $hold"
sleep 4
has_peer "$E" "$(identity "$F")" || has_peer "$E" "$(identity "$G")"
ok $? "two fresh identities claiming no links leave E one of F and G"
for p in $hold; do	# each ends after its 10 s
	wait "$p"
done
grep -h 'making room' "$E.log" | sed 's/^.*link down: /# E: /'
rc=0
for p in $PID_F $PID_G $PID_E; do
	stop_node "$p" || rc=1
done
ok $rc "E, F and G stop cleanly"
check_node_log "$E.log"

# ---- what a node must not serve ----
# P, with no peers, holds a document of its own: a neighbour that asks
# for its root must not get it (DATA would name P as its publisher).
# Q's only peers are two evil identities, A and C: A inserts a block, C
# takes it, A leaves, C makes Q forget the insert's id and inserts
# another block under it; a REQUEST for that block must not get the old
# one (tests/net/evil_peer.c, poison).
P=$TMP/p
Q=$TMP/q
mkdir -p "$P" "$Q"
start_node "$P"; rc=$?
PID_P=$NODE_PID
start_node "$Q" || rc=1
PID_Q=$NODE_PID
wait_for 10 test -s "$P/address" && wait_for 10 test -s "$Q/address" ||
    rc=1
ok $rc "P and Q start, with no peers"
head -c 100000 /dev/urandom > "$TMP/own"
OWN=$(timeout 30 "$UMBRA" put --datadir "$P" "$TMP/own" 2>/dev/null)
OWN_RKEY=$("$EVIL" rkey "$OWN" 2>/dev/null)
[ ${#OWN_RKEY} -eq 64 ]; ok $? "a 100 kB document put at P; its routing key"
ADDR=$(cat "$P/address")
evil "a REQUEST for the root of P's own document: no DATA" probe "$OWN_RKEY"
ADDR=$(cat "$Q/address")
evil "an insert id reused with another block: its REQUEST gets no old block" \
    poison
rc=0
for p in $PID_P $PID_Q; do
	stop_node "$p" || rc=1
done
ok $rc "P and Q stop cleanly"
check_node_log "$P.log"
check_node_log "$Q.log"

done_testing
