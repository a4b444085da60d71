#!/bin/bash
# crash.sh - SPEC "Errors and bad input": "A node killed at any moment
# restarts with its store intact and every block whose insert it had
# acknowledged still there."
#
# Part 1: a node with no peers takes puts in a loop and is killed with
# SIGKILL at a random moment, CRASH_ROUNDS times (default 12). After each
# kill, store_check opens the store as the node does and checks every
# block against its key; the node then restarts, and every document whose
# put had returned a URI, in any round so far, comes back byte for byte.
#
# Part 2: a relay killed while it caches blocks in transit. A and B are
# linked only through R; A puts documents, which R stores on their way,
# and R is killed with SIGKILL in the middle of each insert. Its store
# checks clean, it restarts and relinks, the inserts complete, and B gets
# every document back through R.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-12}
CHECK=$TOP_BUILDDIR/tests/net/store_check
MAX_WAIT=60		# s for any one put, get or restart: a hang, not a pace

# make_doc FILE: a document of a random size (1 KiB to 2 MiB, most of them
# small), random bytes or (one in four) compressible text.
make_doc() {
	local r=$((RANDOM % 100)) size
	if [ $r -lt 50 ]; then
		size=$((1024 + RANDOM * 2))
	elif [ $r -lt 85 ]; then
		size=$((65536 + RANDOM * 14))
	else
		size=$((524288 + RANDOM * 48))
	fi
	if [ $((RANDOM % 4)) -eq 0 ]; then
		yes "crash.sh $1 $RANDOM" | head -c "$size" > "$1"
	else
		head -c "$size" /dev/urandom > "$1"
	fi
}

# putter DIR ROUND: puts new documents at the node in DIR until a put
# fails (the node was killed) or 200 were made; appends "URI FILE" to
# $TMP/acked for each put that returned a URI.
putter() {
	local i f uri
	for i in $(seq 200); do
		f="$TMP/docs/$2.$i"
		make_doc "$f"
		uri=$(timeout "$MAX_WAIT" "$UMBRA" put --datadir "$1" "$f" \
		    2>/dev/null) || break
		echo "$uri $f" >> "$TMP/acked"
	done
}

# verify_all DIR: gets every acknowledged URI from the node in DIR (one
# curl for all of them, through the HTTP API); prints the number that
# came back identical.
verify_all() {
	local uri f i=0 n=0
	: > "$TMP/curl.cfg"
	while read -r uri f; do
		i=$((i + 1))
		printf 'url = "%s/api/v1/get/%s"\noutput = "%s/got.%d"\n' \
		    "$(api_url "$1")" "$uri" "$TMP" "$i" >> "$TMP/curl.cfg"
	done < "$TMP/acked"
	curl -s --max-time "$MAX_WAIT" -H "Authorization: Bearer $(token "$1")" \
	    -K "$TMP/curl.cfg" 2>/dev/null
	i=0
	while read -r uri f; do
		i=$((i + 1))
		cmp -s "$f" "$TMP/got.$i" && n=$((n + 1))
		rm -f "$TMP/got.$i"
	done < "$TMP/acked"
	echo "$n"
}

# check_store DIR WHAT: store_check on the stopped node's store, as a
# check named WHAT.
check_store() {
	local out rc
	out=$("$CHECK" "$1/store" 2>&1)
	rc=$?
	ok $rc "$2: the store opens clean and every block matches its key ($out)"
}

[ -x "$CHECK" ]; ok $? "store_check is built ($CHECK)"
mkdir -p "$TMP/docs"
: > "$TMP/acked"

# ---- part 1: a node killed at random moments during puts ----
N="$TMP/n"
killed_ms=""
for round in $(seq "$ROUNDS"); do
	if ! start_node "$N"; then
		ok 1 "round $round: the node restarts after the kill"
		tail -5 "$N.log" | sed 's/^/# node: /'
		break
	fi
	PID=$NODE_PID
	before=$(lines "$TMP/acked")
	putter "$N" "$round" &
	PUTTER=$!
	PIDS="$PIDS $PUTTER"
	# 0 to 3 s in: some kills land in the first puts or the start-up.
	ms=$((RANDOM % 3000))
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	wait_gone "$PUTTER" "$MAX_WAIT"
	killed_ms="$killed_ms $ms"
	acked=$(($(lines "$TMP/acked") - before))
	check_store "$N" "round $round, killed ${ms} ms in after $acked acknowledged puts"
	if ! start_node "$N"; then
		ok 1 "round $round: the node restarts after the kill"
		tail -5 "$N.log" | sed 's/^/# node: /'
		break
	fi
	total=$(lines "$TMP/acked")
	got=$(verify_all "$N")
	[ "$got" -eq "$total" ]
	ok $? "round $round: the node restarts; all $total documents acknowledged so far come back identical ($got)"
	kill -KILL "$NODE_PID"
	wait "$NODE_PID" 2>/dev/null
done
diag "part 1: $ROUNDS kills at (ms):$killed_ms; $(lines "$TMP/acked") documents acknowledged in all"
[ "$(lines "$TMP/acked")" -ge "$ROUNDS" ]
ok $? "at least one acknowledged put per round on average (the kills fell among puts)"
start_node "$N"
ok $? "the node starts once more"
grep -q 'does not match its key' "$N.log"
[ $? -ne 0 ]; ok $? "no block read back was found damaged (the node checks every block it reads)"
stop_node "$NODE_PID"
ok $? "the node stops cleanly"
check_node_log "$N.log"

# ---- part 2: a relay killed while it caches blocks in transit ----
A="$TMP/a"; B="$TMP/b"; R="$TMP/r"
start_node "$A" && PID_A=$NODE_PID && start_node "$B" && PID_B=$NODE_PID
ok $? "nodes A and B start"
ADDR_A=$(cat "$A/address"); ADDR_B=$(cat "$B/address")
# R dials A and B: it finds them again after each restart, on new ports.
start_node "$R" --peer "$ADDR_A" --peer "$ADDR_B"
ok $? "relay R starts, linked to A and B"
PID_R=$NODE_PID

# pending DIR: the node's pending inserts.
pending() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["pending_inserts"])' \
	    2>/dev/null || echo -1
}
no_pending() { [ "$(pending "$1")" = 0 ]; }

wait_until 20 linked "$R" 2
ok $? "R is linked to A and B within 20 s"
: > "$TMP/acked2"
for round in 1 2 3; do
	f="$TMP/docs/relay.$round"
	head -c $((32 * 1024 * 1024)) /dev/urandom > "$f"
	timeout 180 "$UMBRA" put --datadir "$A" "${DIRECT[@]}" "$f" \
	    > "$TMP/uri.$round" 2>"$TMP/put.$round.err" &
	PUT=$!
	PIDS="$PIDS $PUT"
	ms=$((200 + RANDOM % 1000))
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	held=$("$UMBRA" status --datadir "$R" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["store"]["blocks"])' \
	    2>/dev/null)
	kill -KILL "$PID_R"
	wait "$PID_R" 2>/dev/null
	check_store "$R" "relay round $round, R killed ${ms} ms into a 32 MiB insert (holding ${held:-?} blocks)"
	start_node "$R" --peer "$ADDR_A" --peer "$ADDR_B"
	ok $? "relay round $round: R restarts"
	PID_R=$NODE_PID
	wait_until 30 linked "$R" 2
	ok $? "relay round $round: R relinks to A and B within 30 s"
	wait_gone "$PUT" 180
	put_rc=$RC
	if [ "$put_rc" != 0 ]; then
		# The put was cut with its route: it is put again, whole.
		diag "the put was cut by R's death ($(head -c 200 "$TMP/put.$round.err")); putting again"
		timeout 180 "$UMBRA" put --datadir "$A" "${DIRECT[@]}" "$f" \
		    > "$TMP/uri.$round" 2>"$TMP/put.$round.err"
		put_rc=$?
	fi
	[ "$put_rc" = 0 ] && [ -s "$TMP/uri.$round" ]
	ok $? "relay round $round: the put at A returns a URI"
	echo "$(cat "$TMP/uri.$round") $f" >> "$TMP/acked2"
done
wait_until 120 no_pending "$A"
ok $? "A's inserts all reach the network (no pending insert) within 120 s"
good=0
while read -r uri f; do
	timeout 120 "$UMBRA" get --datadir "$B" "${DIRECT[@]}" "$uri" \
	    -o "$TMP/got" 2>/dev/null && cmp -s "$f" "$TMP/got" &&
	    good=$((good + 1))
done < "$TMP/acked2"
[ "$good" -eq 3 ]
ok $? "B gets all 3 documents back identical through R ($good)"
for d in "$R" "$B" "$A"; do
	grep -q 'does not match its key' "$d.log"
	[ $? -ne 0 ]; ok $? "$(basename "$d"): no damaged block read from its store"
done
stop_node "$PID_R"; ok $? "R stops cleanly"
check_store "$R" "R at the end"
stop_node "$PID_B"; ok $? "B stops cleanly"
stop_node "$PID_A"; ok $? "A stops cleanly"
for d in "$A" "$B" "$R"; do check_node_log "$d.log"; done

done_testing
