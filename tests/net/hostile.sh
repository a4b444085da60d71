#!/bin/bash
# hostile.sh - a node under a hostile peer (tests/net/evil_peer.c): broken
# handshakes, bad frames, a flood, a peer that never reads and blocks that
# do not match, hundreds of connections at once, and onion paths with the
# node as their exit built, replayed, flooded and broken (docs/onion.md).
# Each must cost the peer its link or its path and nothing more: the node
# keeps running, keeps its good peer, serves an honest client through it
# all along (a get every second or two, each checked byte for byte) and
# stays under 256 MiB for the whole run, sampled every 0.25 s (SPEC
# "Errors and bad input"; the bounds are docs/limits.md). Then what a
# node must not serve: its own documents to a prober, an old held block
# to a peer that reused the block's insert id.
. "$(dirname "$0")/lib.sh"

TOP=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EVIL=${EVIL_PEER:-$TOP/tests/net/evil_peer}
A=$TMP/a
B=$TMP/b
mkdir -p "$A" "$B"
# As in big_upload.sh: ASan's shadow memory and quarantine are not the
# node's, so a sanitizer build gets a bound of 768 MiB.
LIMIT_MIB=256
SANITIZED=0
if [ "${UMBRA_SANITIZED:-0}" = 1 ] ||
    nm "$UMBRA" 2>/dev/null | grep -q __asan_init ||
    grep -qa __asan_init "$UMBRA" 2>/dev/null; then
	LIMIT_MIB=768
	SANITIZED=1
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

# What the evil peers sent, summed from each run's last line "# sent:
# frames N requests N connections N" (evil_peer.c).
SENT_FRAMES=0 SENT_REQUESTS=0 SENT_CONNS=0 SENT_RUNS=0
tally() {	# tally FILE...
	local f r c
	while read -r _ _ _ f _ r _ c; do
		SENT_FRAMES=$((SENT_FRAMES + f))
		SENT_REQUESTS=$((SENT_REQUESTS + r))
		SENT_CONNS=$((SENT_CONNS + c))
		SENT_RUNS=$((SENT_RUNS + 1))
	done < <(grep -h '^# sent: ' "$@")
}

# verdict FILE: an evil_peer run's verdict, its last line but the tally.
verdict() { grep -v '^# sent: ' "$1" | tail -1; }

# phase NAME: notes when NAME began; phase_at EPOCH: the one under way
# then. For the reports on latency and RSS.
phase() { echo "$(date +%s.%N) $*" >> "$TMP/phases"; }
phase_at() {
	awk -v t="$1" '$1 <= t { p = substr($0, index($0, " ") + 1) }
	    END { print p == "" ? "the setup" : p }' "$TMP/phases" 2>/dev/null
}

# evil NAME SCENARIO [ARG]: runs one scenario against A; exit 0 expected.
evil() {
	local name=$1
	shift
	phase "$1"
	timeout 90 "$EVIL" "$1" "$ADDR" "${@:2}" > "$TMP/evil.out" 2>&1
	local rc=$?
	tally "$TMP/evil.out"
	diag "$(verdict "$TMP/evil.out")"
	ok $rc "$name"
}

# through_a NAME SCENARIO SECONDS: runs a scenario that waits for A to
# route a REQUEST to it, while gets at B of a key nobody has go B -> A ->
# the evil peer (A's only other peer). MISSING is that key.
through_a() {
	local name=$1 pid rc
	phase "$2"
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
	tally "$TMP/evil.out"
	grep -v '^# sent: ' "$TMP/evil.out" | sed 's/^# //; s/^/# /'
	ok $rc "$name"
}

# honest_loop LOG: the honest client. Gets HONEST_URI at B (B has no copy
# and does not cache its own gets, so every block comes from A's cache)
# every 1 s or so, each within 20 s, checked byte for byte against
# $TMP/honest.doc; appends "START END ok" or "START END fail WHY" to LOG.
# At most 600 gets and 15 minutes; stopped by PID (SIGTERM ends the get
# in progress too, unlogged).
honest_loop() {
	local log=$1 t0 t1 rc gp="" end=$((SECONDS + 900))
	trap '[ -n "$gp" ] && kill "$gp" 2>/dev/null; exit 0' TERM
	for _ in $(seq 600); do
		[ "$SECONDS" -lt "$end" ] || break
		t0=$(date +%s.%N)
		timeout 20 "$UMBRA" get --datadir "$B" "${DIRECT[@]}" \
		    "$HONEST_URI" > "$TMP/honest.got" 2> "$TMP/honest.err" &
		gp=$!
		wait "$gp"
		rc=$?
		gp=""
		t1=$(date +%s.%N)
		if [ $rc -ne 0 ]; then
			echo "$t0 $t1 fail exit $rc: $(tail -1 "$TMP/honest.err")"
		elif ! cmp -s "$TMP/honest.doc" "$TMP/honest.got"; then
			echo "$t0 $t1 fail other bytes"
		else
			echo "$t0 $t1 ok"
		fi >> "$log"
		sleep 1
	done
}

# ---- two good nodes, linked ----
[ -x "$EVIL" ]; ok $? "evil_peer is built ($EVIL)"
start_node "$A"; ok $? "node A starts"
PID_A=$NODE_PID
: > "$TMP/samples"
sample_proc "$PID_A" "$TMP/samples" &	# A's RSS and descriptors, to the end
PIDS="$PIDS $!"
wait_for 10 test -s "$A/address"; ok $? "A writes DIR/address"
ADDR=$(cat "$A/address")

# The honest client's document: put at C, A's only peer then, and C
# stopped before B comes: so A holds its blocks in its cache (a node never
# serves its own documents, so A must not be the author), B has none, and
# a get at B takes every block through A.
C=$TMP/c
mkdir -p "$C"
head -c $((1024 * 1024)) /dev/urandom > "$TMP/honest.doc"
start_node "$C" --peer "$ADDR"; rc=$?
PID_C=$NODE_PID
wait_for 20 at_least_one_peer "$A" || rc=1
HONEST_URI=$(timeout 60 "$UMBRA" put --datadir "$C" "${DIRECT[@]}" \
    "$TMP/honest.doc" 2>/dev/null) || rc=1
stop_node "$PID_C" || rc=1
ok $rc "the honest client's 1 MiB document put at C (linked to A only), C stopped"

start_node "$B" --peer "$ADDR"; ok $? "node B starts with --peer A"
PID_B=$NODE_PID
wait_for 20 at_least_one_peer "$A" && wait_for 20 at_least_one_peer "$B"
ok $? "A and B are linked within 20 s"
ID_B=$(identity "$B")
ID_A=$(identity "$A")

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

# The honest client, from here to the end of the attacks.
: > "$TMP/honest.log"
honest_loop "$TMP/honest.log" &
HONEST_PID=$!
PIDS="$PIDS $HONEST_PID"
T_ATTACKS=$(date +%s.%N)

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
phase "noread x31"
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
tally "$TMP"/noread.*
diag "$(cat "$TMP"/noread.* | grep -c '^ok') of 31 closed by the node"
grep -h '^FAIL' "$TMP"/noread.* | sed 's/^/# /'
# Under a sanitizer, 31 instrumented evil peers and the node share two
# cores: the node has been measured at 3.5 s of CPU in 19 s, and a peer
# or two then got no HELLO within the 10 s of the handshake. Such a peer
# never tested the cap; it runs again, alone. Any other failure stands.
if [ "$SANITIZED" = 1 ]; then
	for i in $(seq 31); do
		grep -q '^FAIL: noread: link not up' "$TMP/noread.$i" ||
		    continue
		timeout 90 "$EVIL" noread "$ADDR" "$RKEY" > "$TMP/again" 2>&1 &&
		    bad=$((bad - 1))
		tally "$TMP/again"
		diag "sanitizer build: noread $i, which could not link, alone: $(verdict "$TMP/again")"
	done
fi
[ $bad -eq 0 ]; ok $? "31 peers at once that never read: each closed"

# ---- hundreds of connections at once ----
# Two fifths handshake and stay as idle, live peers (refused ones send a
# BUILD, which makes them path links while there is room), a fifth stop
# after msg2, two fifths are silent (evil_peer.c, swarm). A takes 32
# links (B and 31 of them), 64 path links beyond those, 64 handshakes at
# a time (a newer one pushes an older out), gives a refused peer 5 s, an
# unfinished handshake 10 s (docs/limits.md). Our own descriptors:
# evil_peer raises its soft limit, within the hard one.
SWARM=500
lim=$(ulimit -Hn)
if [ "$lim" != unlimited ] && [ "$lim" -lt $((SWARM + 64)) ]; then
	SWARM=$((lim - 64))
	diag "ulimit -Hn is $lim: the swarm is $SWARM connections"
fi
# links DIR: "SLOTS PATH_LINKS", the links of the node in DIR.
links() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)["peers"]
n = sum(1 for x in p if x.get("path_link"))
print(len(p) - n, n)' 2>/dev/null || echo "-1 -1"
}
phase "swarm $SWARM"
T_SWARM=$(date +%s.%N)
fds_before=$(fd_count "$PID_A")
timeout 90 "$EVIL" swarm "$ADDR" "$SWARM" > "$TMP/swarm.out" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_line "$TMP/swarm.out" '^# held' "$pid" 40
fds_held=$(fd_count "$PID_A")
read -r slots_held paths_held < <(links "$A")
wait "$pid"
rc=$?
T_SWARM_END=$(date +%s.%N)
tally "$TMP/swarm.out"
grep '^# held' "$TMP/swarm.out"
diag "$(verdict "$TMP/swarm.out")"
ok $rc "$SWARM connections at once: at most 32 slots and 64 path links, the rest refused or closed within their bounds"
[ "$slots_held" -ge 1 ] && [ "$slots_held" -le 32 ] &&
    [ "$paths_held" -ge 0 ] && [ "$paths_held" -le 64 ]
ok $? "A lists $slots_held links and $paths_held path links while they hold (at most 32 and 64)"
diag "A's descriptors: $fds_before before the swarm, $fds_held while it held"
# Before: B's link and the node's own. While held: one more a link, and
# a few for handshakes the kernel let through late.
[ "$fds_held" -le $((fds_before + 31 + 64 + 8)) ]
ok $? "A holds $((fds_held - fds_before)) descriptors more than before while the swarm holds (at most 31 + 64 links, + 8)"
fds_back() { [ "$(fd_count "$PID_A")" -le $((fds_before + 2)) ]; }
wait_for 15 fds_back
ok $? "A's descriptors back to $(fd_count "$PID_A") (before: $fds_before) within 15 s of the swarm's end"
has_peer "$A" "$ID_B"; ok $? "A still has B as a peer after the swarm"

# 95 links (all of A's slots and path links) that each keep A's queue to
# them near its 4 MiB cap: 380 MiB in all, were the queues not also
# capped together (PEERS_QUEUE_TOTAL_MAX): A closes the links furthest
# behind instead, and its RSS (sampled all along) stays under the bound.
evil "95 links that each keep 180 DATA frames queued, read slowly: A closes those furthest behind" \
    slowread "95:180:$RKEY"
grep -q 'furthest behind while the send queues hold' "$A.log"
ok $? "A logs the links it closed to keep its send queues under their cap"
wait_for 20 has_peer "$A" "$ID_B"; ok $? "A has B as a peer after the slow readers"

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

# ---- the honest client, all through the attacks ----
T_END=$(date +%s.%N)
stop_pid "$HONEST_PID"

# silent_gaps: "DOWN UP" (epoch seconds) for each time B dropped its link
# to A because A had sent it nothing for 8 s, to B's next link up.
silent_gaps() {
	local down="" ts what
	while read -r ts what; do
		ts=$(date -d "$ts" +%s 2>/dev/null) || continue
		if [ "$what" = down ]; then
			down=$ts
		elif [ -n "$down" ]; then
			echo "$down $ts"
			down=""
		fi
	done < <(awk -v a="$ID_A" '
	    index($0, "link down: " a " ") && /peer silent/ { print $1, "down" }
	    index($0, "link up: " a " ") { print $1, "up" }' "$B.log")
	[ -z "$down" ] || date +"$down %s"
}
silent_gaps > "$TMP/gaps"
while read -r d u; do
	diag "B dropped A as silent for 8 s at $d (in $(phase_at "$d")), linked again $((u - d)) s later"
done < "$TMP/gaps"

# Gets that began and ended within the attacks; every get counts for
# failures and latency. At least one get every 5 s of attacks. No get
# may fail; under a sanitizer, one is excused if B had dropped A as
# silent meanwhile (at most 10): the node runs several times slower
# there, and on two cores shared with other jobs its loop has been seen
# to send B nothing for 8 s while it answered the 31 peers that never
# read (B's log says so, and the diag lines above show when).
read -r n_all n_in n_fail n_excused worst worst_at secs < <(awk \
    -v a="$T_ATTACKS" -v b="$T_END" -v gaps="$TMP/gaps" '
	BEGIN { at = 0; while ((getline g < gaps) > 0) {
		split(g, x, " "); gd[++ng] = x[1]; gu[ng] = x[2] } }
	{ n++; d = $2 - $1; if (d > w) { w = d; at = $1 } }
	$3 != "ok" { f++; for (i = 1; i <= ng; i++)
		if ($1 <= gu[i] + 1 && $2 >= gd[i] - 1) { e++; break } }
	$3 == "ok" && $1 >= a && $2 <= b { in_++ }
	END { printf "%d %d %d %d %.2f %s %d\n", n, in_, f, e, w, at,
	    b - a }' "$TMP/honest.log")
diag "honest client: $n_all gets at B through A, $n_in done during ${secs} s of attacks, $n_fail failed ($n_excused while B had dropped A as silent); worst latency $worst s (in $(phase_at "$worst_at"))"
grep ' fail ' "$TMP/honest.log" | sed 's/^/# failed: /'
[ "$n_in" -ge $((secs / 5)) ]
ok $? "the honest client's gets during the attacks: $n_in, at least one per 5 s ($((secs / 5)))"
if [ "$SANITIZED" = 1 ]; then
	[ "$n_fail" -eq "$n_excused" ] && [ "$n_excused" -le 10 ]
	ok $? "none of the honest client's $n_all gets failed but while B had dropped A as silent (sanitizer build: $n_excused excused, at most 10)"
else
	[ "$n_fail" -eq 0 ]
	ok $? "none of the honest client's $n_all gets failed"
fi
read -r n_sw sw_secs < <(awk -v a="$T_SWARM" -v b="$T_SWARM_END" '
	$3 == "ok" && $1 >= a && $2 <= b { n++ }
	END { printf "%d %d\n", n, b - a }' "$TMP/honest.log")
[ "$n_sw" -ge $((sw_secs / 5)) ] && [ "$n_sw" -ge 1 ]
ok $? "the honest client's gets while the $SWARM connections held: $n_sw in $sw_secs s"

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
# The samples of A's whole run (to its stop): the peak and the scenario
# under way then.
read -r n_samples rss_max rss_at fds_max < <(awk 'BEGIN { t = 0 }
	{ n++; if ($2 > m) { m = $2; t = $1 } if ($3 > f) f = $3 }
	END { printf "%d %d %s %d\n", n, m, t, f }' "$TMP/samples")
diag "A's RSS sampled $n_samples times (every 0.25 s): at most $((rss_max / 1024)) MiB (in $(phase_at "$rss_at")), VmHWM $((${hwm:-0} / 1024)) MiB; at most $fds_max descriptors"
[ "$n_samples" -ge 100 ] && [ "$rss_max" -lt $((LIMIT_MIB * 1024)) ]
ok $? "A's RSS stayed under $LIMIT_MIB MiB in all $n_samples samples"
check_node_log "$A.log"
check_node_log "$B.log"
check_node_log "$C.log"

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
tally "$TMP"/hold.*
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

diag "evil_peer, $SENT_RUNS runs in all: sent $SENT_FRAMES frames, $SENT_REQUESTS REQUESTs and INSERTs (messages and cells), made $SENT_CONNS connections"
done_testing
