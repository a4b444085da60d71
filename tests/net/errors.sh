#!/bin/bash
# errors.sh - what put and get say when the network cannot carry them
# (SPEC "Command line": paths that cannot be built, failures; docs/onion.md
# "Paths in use"). A node alone: "no peers". Two nodes, then three: too
# few relays for a 3-hop onion path, so put gives its URI, pending, within
# 30 s and names the relays known and needed; get fails within 30 s with
# that reason, exit 1, never "not found"; the HTTP API answers 503 with
# the same text; status shows the pending insert, which survives a
# restart. Then two more nodes join (five): the pending inserts go out by
# themselves, and a sixth node that joins after them gets them over its
# paths; a key never inserted is "content not found", with the tries
# made. Last, four nodes of which one dies: relays enough, but no path
# can be built, and put and get say that. Every bound is measured.
. "$(dirname "$0")/lib.sh"

# ms: milliseconds since the epoch; secs MS: MS as seconds.
ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# field DIR EXPR: a Python expression over the node's status (s).
field() {
	timeout 10 "$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c 'import json, sys; s = json.load(sys.stdin); print('"$2"')' \
	    2>/dev/null
}
relays_at_least() { [ "$(field "$1" 's["relays_known"]')" -ge "$2" ] 2>/dev/null; }
pending_is() { [ "$(field "$1" 's["pending_inserts"]')" = "$2" ]; }

# timed_put DIR FILE NAME: put FILE at DIR (bound 60 s) into $TMP/NAME.uri
# and NAME.err; sets RC and EL (ms).
timed_put() {
	local t0
	t0=$(ms)
	timeout 60 "$UMBRA" put --datadir "$1" "$2" > "$TMP/$3.uri" 2> "$TMP/$3.err"
	RC=$?
	EL=$(($(ms) - t0))
}
# timed_get DIR URI NAME: get URI at DIR (bound 150 s) into $TMP/NAME.got
# and NAME.err; sets RC and EL (ms).
timed_get() {
	local t0
	t0=$(ms)
	rm -f "$TMP/$3.got"
	timeout 150 "$UMBRA" get --datadir "$1" "$2" -o "$TMP/$3.got" \
	    2> "$TMP/$3.err"
	RC=$?
	EL=$(($(ms) - t0))
}
# put_pending NAME KNOWN: the put gave one URI within 30 s and warned on
# stderr, in one line, that it is not in the network for want of a path,
# naming KNOWN relays known and 3 needed.
put_pending() {
	[ "$RC" -eq 0 ] && [ "$(lines "$TMP/$1.uri")" = 1 ] &&
	    grep -q '^CHK@' "$TMP/$1.uri" && [ "$EL" -le 30000 ] &&
	    [ "$(lines "$TMP/$1.err")" = 1 ] &&
	    grep -q "not yet in the network: no onion path of 3 hops can be built ($2 relays\{0,1\} known, 3 needed)" \
	    "$TMP/$1.err" && grep -q 'inserted when one can' "$TMP/$1.err"
}
# get_no_path NAME KNOWN: the get failed within 30 s, exit 1, one line
# naming KNOWN relays known and 3 needed, no output file, no "not found".
get_no_path() {
	[ "$RC" -eq 1 ] && [ "$EL" -le 30000 ] && [ "$(lines "$TMP/$1.err")" = 1 ] &&
	    grep -q "^umbra get: no onion path of 3 hops: $2 relays\{0,1\} known, 3 needed$" \
	    "$TMP/$1.err" && ! grep -qi 'not found' "$TMP/$1.err" &&
	    [ ! -e "$TMP/$1.got" ]
}

A=$TMP/a B=$TMP/b C=$TMP/c D=$TMP/d E=$TMP/e F=$TMP/f L=$TMP/lone
mkdir -p "$A" "$B" "$C" "$D" "$E" "$F" "$L"
for i in 1 2 3 4; do head -c $((i * 150000 + 7)) /dev/urandom > "$TMP/doc$i"; done

# ---- a node alone: no peers ----
start_node "$L"; ok $? "a node alone starts"
PID_L=$NODE_PID
timed_put "$L" "$TMP/doc1" lone
[ "$RC" -eq 0 ] && grep -q '^CHK@' "$TMP/lone.uri" && [ "$EL" -le 30000 ] &&
    grep -q 'not yet in the network: this node has no peers' "$TMP/lone.err"
ok $? "alone: put gives the URI ($(secs $EL) s) and says the node has no peers"
diag "put: $(cat "$TMP/lone.err")"
# A valid key of nothing stored (the routing key changed).
U=$(cat "$TMP/lone.uri"); k=${U:4:1}; [ "$k" = A ] && n=B || n=A
NONE="CHK@$n${U:5}"
timed_get "$L" "$NONE" lonenone
[ "$RC" -eq 1 ] && [ "$EL" -le 30000 ] && [ "$(lines "$TMP/lonenone.err")" = 1 ] &&
    grep -q '^umbra get: no peers: ' "$TMP/lonenone.err" &&
    ! grep -qi 'not found\|onion path' "$TMP/lonenone.err"
ok $? "alone: get of a key not held fails in $(secs $EL) s, exit $RC: 'no peers', not 'not found'"
diag "get: $(cat "$TMP/lonenone.err")"
timed_get "$L" "$U" loneown
[ "$RC" -eq 0 ] && cmp -s "$TMP/doc1" "$TMP/loneown.got"
ok $? "alone: a get finds what the node itself inserted"
stop_node "$PID_L"; ok $? "the lone node stops"

# ---- two nodes: 1 relay known, 3 needed ----
start_node "$A" && PID_A=$NODE_PID &&
    start_node "$B" --peer "$(cat "$A/address")" && PID_B=$NODE_PID
ok $? "nodes A and B start, B seeded with A"
wait_until 20 relays_at_least "$A" 1 && wait_until 20 relays_at_least "$B" 1
ok $? "A and B each know the other as a relay"
timed_put "$A" "$TMP/doc2" two
put_pending two 1
ok $? "two nodes: put gives one URI in $(secs $EL) s (<= 30), exit $RC, and names 1 relay known, 3 needed"
diag "put: $(cat "$TMP/two.err")"
U2=$(cat "$TMP/two.uri")
timed_get "$B" "$U2" two
get_no_path two 1
ok $? "two nodes: get at B fails in $(secs $EL) s (<= 30), exit $RC, one line naming 1 relay known, 3 needed"
diag "get: $(cat "$TMP/two.err")"
pending_is "$A" 1
ok $? "A's status --json: 1 pending insert"
timeout 10 "$UMBRA" status --datadir "$A" > "$TMP/st.txt" 2>&1 &&
    grep -q '^pending  *1 ' "$TMP/st.txt"
ok $? "A's status shows it: '$(grep '^pending' "$TMP/st.txt")'"

# The HTTP API says the same, with 503 for the get.
api_get() {	# api_get DIR URI: the answer's body into $TMP/body; CODE
	CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 60 \
	    -H "Authorization: Bearer $(token "$1")" "$(api_url "$1")/api/v1/get/$2")
}
t0=$(ms)
api_get "$B" "$U2"
el=$(($(ms) - t0))
python3 - "$TMP/body" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["error"]
sys.exit(0 if e == "no onion path of 3 hops: 1 relay known, 3 needed" else 1)
PY
[ $? -eq 0 ] && [ "$CODE" = 503 ] && [ "$el" -le 30000 ]
ok $? "API get at B: $CODE in $(secs $el) s, {\"error\": \"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$TMP/body" 2>/dev/null)\"}"
t0=$(ms)
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 60 \
    -H "Authorization: Bearer $(token "$A")" --data-binary @"$TMP/doc3" \
    "$(api_url "$A")/api/v1/put?name=doc3")
el=$(($(ms) - t0))
python3 - "$TMP/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w = d.get("warning", "")
sys.exit(0 if d["uri"].startswith("CHK@") and d["pending"] is True and
         "no onion path of 3 hops can be built (1 relay known, 3 needed)" in w
         else 1)
PY
[ $? -eq 0 ] && [ "$CODE" = 200 ] && [ "$el" -le 30000 ]
ok $? "API put at A: $CODE in $(secs $el) s, pending, with the warning"
U3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uri"])' "$TMP/body")

# ---- three nodes: 2 relays known, 3 needed ----
start_node "$C" --peer "$(cat "$A/address")" && PID_C=$NODE_PID
ok $? "node C starts, seeded with A"
wait_until 30 relays_at_least "$A" 2 && wait_until 30 relays_at_least "$B" 2 &&
    wait_until 30 relays_at_least "$C" 2
ok $? "A, B and C each know the two others as relays"
timed_put "$A" "$TMP/doc4" three
put_pending three 2
ok $? "three nodes: put gives one URI in $(secs $EL) s (<= 30), exit $RC, and names 2 relays known, 3 needed"
diag "put: $(cat "$TMP/three.err")"
U4=$(cat "$TMP/three.uri")
timed_get "$C" "$U2" three
get_no_path three 2
ok $? "three nodes: get at C fails in $(secs $EL) s (<= 30), exit $RC, one line naming 2 relays known, 3 needed"
diag "get: $(cat "$TMP/three.err")"
pending_is "$A" 3
ok $? "A has 3 pending inserts ($(field "$A" 's["pending_inserts"]'))"

# A restart keeps them (A comes back by B: its port changes).
stop_node "$PID_A"; ok $? "A stops cleanly"
start_node "$A" --peer "$(cat "$B/address")" && PID_A=$NODE_PID
ok $? "A starts again, seeded with B"
pending_is "$A" 3
ok $? "the 3 pending inserts survive the restart"

# ---- five nodes: the pending inserts go out ----
t0=$(ms)
start_node "$D" --peer "$(cat "$B/address")" && PID_D=$NODE_PID &&
    start_node "$E" --peer "$(cat "$C/address")" && PID_E=$NODE_PID
ok $? "nodes D and E join"
wait_until 120 pending_is "$A" 0
rc=$?
el=$(($(ms) - t0))
ok $rc "A's pending inserts all go into the network within 120 s of D and E starting ($(secs $el) s)"
[ $rc -ne 0 ] && diag "A: $(grep 'insert:' "$A.log" | tail -2)"
# The getter joins after the inserts, so it holds none of the blocks
# (inserts are cached on their way): every block crosses its paths.
ready3() { [ "$(field "$1" 'sum(p["hops"] == 3 and p["state"] == "ready" for p in s["paths"])')" -ge 1 ] 2>/dev/null; }
start_node "$F" --peer "$(cat "$D/address")" && PID_F=$NODE_PID &&
    wait_until 60 ready3 "$F"
ok $? "node F joins after the inserts and has a ready 3-hop path"
[ "$(field "$F" 's["store"]["blocks"]')" = 0 ]
ok $? "F's store holds no block: what it gets crosses the network"
good=0
for p in "2 $U2" "3 $U3" "4 $U4"; do
	i=${p%% *}
	timed_get "$F" "${p#* }" five$i
	[ "$RC" -eq 0 ] && cmp -s "$TMP/doc$i" "$TMP/five$i.got" || {
		good=1
		diag "get of doc$i at F: exit $RC: $(cat "$TMP/five$i.err")"
	}
	diag "get of doc$i ($(stat -c %s "$TMP/doc$i") bytes) at F over 3 hops: $(secs $EL) s"
done
ok $good "F gets each of the three documents over 3 hops: the same bytes"
timed_get "$F" "$NONE" fivenone
[ "$RC" -eq 1 ] && [ "$EL" -le 120000 ] && [ "$(lines "$TMP/fivenone.err")" = 1 ] &&
    grep -q 'content not found: .* onion paths\{0,1\} of 3 hops found no node that has it' \
    "$TMP/fivenone.err"
ok $? "a key never inserted: 'content not found' with the tries made, in $(secs $EL) s (<= 120), exit $RC"
diag "get: $(cat "$TMP/fivenone.err")"

good=0
for p in "$PID_F" "$PID_E" "$PID_D" "$PID_C" "$PID_B" "$PID_A"; do
	stop_node "$p" || good=1
done
ok $good "all nodes stop cleanly"

# ---- relays enough, but no path can be built ----
# Four nodes; one of them is killed, and its descriptor stays in the
# others' caches (it is valid for 48 h): G knows 3 relays, every 3-hop
# path of G's must go through the dead one, and no build succeeds. G has
# peers: this is neither "no peers" nor "too few relays".
G=$TMP/g H=$TMP/h I=$TMP/i J=$TMP/j
mkdir -p "$G" "$H" "$I" "$J"
start_node "$G" && PID_G=$NODE_PID &&
    start_node "$H" --peer "$(cat "$G/address")" && PID_H=$NODE_PID &&
    start_node "$I" --peer "$(cat "$G/address")" && PID_I=$NODE_PID &&
    start_node "$J" --peer "$(cat "$H/address")" && PID_J=$NODE_PID &&
    wait_until 30 relays_at_least "$G" 3 && wait_until 30 relays_at_least "$H" 3 &&
    wait_until 30 relays_at_least "$I" 3
ok $? "four nodes G, H, I, J, each of G, H, I knowing 3 relays"
kill -KILL "$PID_J"
wait "$PID_J" 2>/dev/null
gone() { [ "$(field "$1" 'sum(p["hops"] == 3 and p["state"] == "ready" for p in s["paths"])')" = 0 ]; }
wait_until 30 gone "$G"
ok $? "J killed: G has no ready 3-hop path left (every one went through J)"
timed_get "$G" "$NONE" unbuilt
[ "$RC" -eq 1 ] && [ "$EL" -le 30000 ] && [ "$(lines "$TMP/unbuilt.err")" = 1 ] &&
    grep -q '^umbra get: no onion path of 3 hops could be built within 20 s (3 relays known; ' \
    "$TMP/unbuilt.err" && ! grep -qi 'not found\|no peers' "$TMP/unbuilt.err"
ok $? "get at G fails in $(secs $EL) s (<= 30), exit $RC: no path could be built, 3 relays known (not 'no peers', not 'not found')"
diag "get: $(cat "$TMP/unbuilt.err")"
timed_put "$G" "$TMP/doc1" unbuilt
[ "$RC" -eq 0 ] && grep -q '^CHK@' "$TMP/unbuilt.uri" && [ "$EL" -le 30000 ] &&
    grep -q 'not yet in the network: no onion path of 3 hops could be built' \
    "$TMP/unbuilt.err"
ok $? "put at G gives its URI in $(secs $EL) s (<= 30), pending, saying no path could be built"
diag "put: $(cat "$TMP/unbuilt.err")"
good=0
for p in "$PID_I" "$PID_H" "$PID_G"; do
	stop_node "$p" || good=1
done
ok $good "G, H and I stop cleanly"
for d in "$L" "$A" "$B" "$C" "$D" "$E" "$F" "$G" "$H" "$I"; do
	check_node_log "$d.log"
done
done_testing
