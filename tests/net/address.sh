#!/bin/bash
# address.sh - a node on an unspecified address learns the address its
# peers reach it at, announces it once a peer dialed it back there, and
# cannot be made to announce a lie (docs/protocol.md, "Addresses").
# Loopback only; tests/net/realnet.sh does the same between hosts.
. "$(dirname "$0")/lib.sh"
EVIL=${EVIL:-$(cd "$(dirname "$0")" && pwd)/evil_peer}

# status_field DIR KEY: a top-level field of status --json ("null" for
# null, "True"/"False" for booleans), or "" if the node does not answer.
status_field() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else v)' "$2" 2>/dev/null
}

# wait_field DIR KEY VALUE SECONDS
wait_field() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$4" ]; do
		[ "$(status_field "$1" "$2")" = "$3" ] && return 0
		sleep 0.3
	done
	return 1
}

# port_of DIR: the port the node in DIR listens on.
port_of() { status_field "$1" listen | sed 's/.*://'; }
key_of() { sed 's/.*#//' "$1/address"; }

"$UMBRA" node --datadir "$TMP/bad" --announce example.org 2>"$TMP/bad.err"
rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--announce' "$TMP/bad.err"
ok $? "--announce with a name: exit 2 ($rc), saying what it wants"

# N listens on 0.0.0.0: it knows no address of its own yet.
start_node "$TMP/n" --listen 0.0.0.0:0
ok $? "a node listening on 0.0.0.0 starts"
N_PID=$NODE_PID
NP=$(port_of "$TMP/n")
NK=$(key_of "$TMP/n")
[ "$(status_field "$TMP/n" address)" = null ] &&
    [ "$(status_field "$TMP/n" reachable)" = null ]
ok $? "alone: address null, reachable null"

start_node "$TMP/h1" --peer "127.0.0.1:$NP#$NK"
ok $? "first honest peer starts"
t0=$SECONDS
sleep 3
[ "$(status_field "$TMP/n" address)" = null ]
ok $? "one peer's report is not enough: still no address"
start_node "$TMP/h2" --peer "127.0.0.1:$NP#$NK"
ok $? "second honest peer starts"
wait_field "$TMP/n" address "127.0.0.1:$NP" 20 &&
    wait_field "$TMP/n" reachable True 5
ok $? "two peers agree and one dials back: 127.0.0.1:$NP announced, reachable ($((SECONDS - t0)) s)"
grep -q "^127.0.0.1:$NP#$NK\$" "$TMP/n/address"
ok $? "DIR/address follows: 127.0.0.1:$NP#KEY"
"$UMBRA" status --datadir "$TMP/n" | grep -q "^address    127.0.0.1:$NP, reachable"
ok $? "umbra status shows the address and that it is reachable"
knows_relays() { [ "$(status_field "$1" relays_known)" -ge "$2" ] 2>/dev/null; }
wait_until 20 knows_relays "$TMP/h1" 2
ok $? "its descriptor reaches the others: h1 knows 2 relays"
grep -q "dial-back done" "$TMP/n.log" || grep -q "reachable at 127.0.0.1:$NP" "$TMP/n.log"
ok $? "N's log says a peer dialed it back"

# One liar among honest peers: outvoted.
"$EVIL" liar "127.0.0.1:$NP#$NK" "127.0.0.9:$NP" >"$TMP/liar0.out" 2>&1 &
L0=$!
PIDS="$PIDS $L0"
lied=0
for _ in $(seq 20); do
	a=$(status_field "$TMP/n" address)
	[ "$a" = "127.0.0.9:$NP" ] && lied=1
	sleep 0.5
done
[ "$lied" -eq 0 ] && [ "$(status_field "$TMP/n" address)" = "127.0.0.1:$NP" ]
ok $? "one peer lying about N's address: N keeps announcing the truth"
kill "$L0" 2>/dev/null

# A flood of dial-back requests: each refused, the link kept, at most
# one dial made (to a closed port: the node's log says why not).
"$EVIL" probeflood "127.0.0.1:$NP#$NK" 100 >"$TMP/flood.out" 2>&1
rc=$?
[ "$rc" -eq 0 ]
ok $? "100 PROBEs at once: $(head -1 "$TMP/flood.out")"

# M hears only from two liars who agree: the dial-back fails, so M
# announces nothing; honest peers then teach it the truth.
start_node "$TMP/m" --listen 0.0.0.0:0
M_PID=$NODE_PID
MP=$(port_of "$TMP/m")
MK=$(key_of "$TMP/m")
"$EVIL" liar "127.0.0.1:$MP#$MK" "127.0.0.9:$MP" >"$TMP/liar1.out" 2>&1 &
L1=$!
"$EVIL" liar "127.0.0.1:$MP#$MK" "127.0.0.9:$MP" >"$TMP/liar2.out" 2>&1 &
L2=$!
PIDS="$PIDS $L1 $L2"
t0=$SECONDS
lied=0
unreach=1
while [ $((SECONDS - t0)) -lt 25 ]; do
	a=$(status_field "$TMP/m" address)
	[ "$a" = "127.0.0.9:$MP" ] && lied=1
	[ "$(status_field "$TMP/m" reachable)" = False ] && { unreach=0; break; }
	sleep 0.5
done
ok "$unreach" "two liars agree: no dial-back reaches M there, M says unreachable ($((SECONDS - t0)) s)"
ok "$lied" "... and never announces the lie"
[ "$lied" -eq 0 ] && [ "$(status_field "$TMP/m" address)" = null ]
ok $? "M's address is null while only liars speak"
"$UMBRA" status --datadir "$TMP/m" | grep -q "open or forward TCP port $MP"
ok $? "umbra status tells the user what to do"
kill "$L1" "$L2" 2>/dev/null
wait "$L1" "$L2" 2>/dev/null
start_node "$TMP/h3" --peer "127.0.0.1:$MP#$MK"
start_node "$TMP/h4" --peer "127.0.0.1:$MP#$MK"
t0=$SECONDS
wait_field "$TMP/m" address "127.0.0.1:$MP" 20 &&
    wait_field "$TMP/m" reachable True 5
ok $? "liars gone, honest peers: M learns 127.0.0.1:$MP ($((SECONDS - t0)) s)"

# IPv6: a node on [::] that peers reach at [::1].
if start_node "$TMP/v6" --listen '[::]:0'; then
	VP=$(port_of "$TMP/v6")
	VK=$(key_of "$TMP/v6")
	start_node "$TMP/h5" --listen '[::1]:0' --peer "[::1]:$VP#$VK"
	start_node "$TMP/h6" --listen '[::1]:0' --peer "[::1]:$VP#$VK"
	wait_field "$TMP/v6" address "[::1]:$VP" 20
	ok $? "IPv6: a node on [::] learns [::1]:$VP"
else
	skip "IPv6: a node on [::] learns its address" "no IPv6 here"
fi

for d in n m; do
	check_node_log "$TMP/$d.log"
done
done_testing
