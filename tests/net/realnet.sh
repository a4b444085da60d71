#!/bin/bash
# realnet.sh - nodes as people run them (issue 14, SPEC "Nodes on real
# networks"): every node in a network namespace of its own (netns.sh), on
# an address of its own, on a line of NETNS_RATE (default 100 Mbit/s),
# started with the defaults (`umbra node --peer HOST:9479#KEY`, no
# --listen, no --api), and one node behind a NAT. Through the command line
# and status --json only:
#  - two- and three-node networks: put gives its URI, pending, within 30 s
#    and get fails within 30 s, each naming the relays (never "not found");
#    put and get run side by side, the URI known from a node without peers;
#  - ten nodes: each public node announces the address it is reached at
#    (HOST:9479, reachable), the NAT'd one none (address null, reachable
#    false); every node has a ready 3-hop path;
#  - a put at one node is fetched at the farthest, at a node that joined
#    after the put, and at one that joined after the origin stopped;
#  - a 3-hop get survives a relay of its path killed in the middle;
#  - the NAT'd node gets and puts, and is never a relay of anyone's path;
#  - a node whose address changes relearns and announces the new one.
# Set REALNET_KEEP=DIR to keep the logs and status samples; REALNET_WAIT
# (default 90) bounds the waits for addresses and paths, REALNET_MOVE
# (default 90) the wait for a moved node's new address.
. "$(dirname "$0")/netns.sh"

if ! why=$(netns_check); then
	skip "nodes with default settings in network namespaces" "$why"
	done_testing
fi

T0=$SECONDS
WAIT=${REALNET_WAIT:-90}
MOVE=${REALNET_MOVE:-90}
PUB="1 2 3 4 5 6 7 8 9"	# public nodes of the ten-node network
NAT=10			# the node behind a NAT
declare -a ID

keep_logs() {
	[ -n "${REALNET_KEEP:-}" ] && mkdir -p "$REALNET_KEEP" || return 0
	cp "$TMP"/n*.log "$TMP"/*.err "$TMP"/*.out "$REALNET_KEEP/" 2> /dev/null
	cp -r "$TMP/samples" "$REALNET_KEEP/" 2> /dev/null
	return 0
}
trap 'keep_logs; netns_cleanup; cleanup' EXIT

# ms: milliseconds since the epoch.
ms() { echo $(($(date +%s%N) / 1000000)); }

# What status --json shows, read by one script (modes below).
cat > "$TMP/st.py" <<'PY'
import json, sys

def load(f):
    try:
        return json.load(open(f))
    except Exception:
        return None

def ready3(d):
    """Ready paths of 3 distinct relays, never the node itself."""
    me = d.get("identity")
    out = []
    for p in d.get("paths") or []:
        r = p.get("relays") or []
        if p.get("state") == "ready" and p.get("hops") == 3 and \
           len(r) == 3 and len(set(r)) == 3 and me not in r:
            out.append(p)
    return out

def tok(v, d, k):
    if k not in d:
        return "absent"
    return "null" if v is None else str(v).lower()

mode = sys.argv[1]
if mode == "flags":
    # flags FILE: "PEERS ADDRESS REACHABLE READY3 RELAYS_KNOWN"
    d = load(sys.argv[2])
    if d is None:
        print("-1 - - 0 0")
    else:
        print(len(d.get("peers") or []), tok(d.get("address"), d, "address"),
              tok(d.get("reachable"), d, "reachable"),
              1 if ready3(d) else 0, d.get("relays_known", 0))
elif mode == "relays":
    # relays FILE: the relays of ready 3-hop paths, "POS IDENTITY", the
    # middle ones of paths carrying streams first
    d = load(sys.argv[2]) or {}
    out = []
    for p in ready3(d):
        for k, x in enumerate(p["relays"]):
            out.append((p.get("streams", 0) == 0, k != 1, k, x))
    for t in sorted(out):
        print(t[2], t[3])
elif mode == "relayed":
    # relayed IDENTITY FILE...: the files whose own paths have IDENTITY as
    # a relay
    who = sys.argv[2]
    for f in sys.argv[3:]:
        d = load(f) or {}
        if d.get("identity") == who:
            continue
        if any(who in (p.get("relays") or []) for p in d.get("paths") or []):
            print(f)
elif mode == "peer_at":
    # peer_at IDENTITY HOST FILE...: 0 if one FILE has a peer IDENTITY
    # at HOST (any port)
    who, host = sys.argv[2], sys.argv[3]
    for f in sys.argv[4:]:
        d = load(f) or {}
        for p in d.get("peers") or []:
            a = p.get("address") or ""
            if p.get("identity") == who and a.rsplit(":", 1)[0] == host:
                sys.exit(0)
    sys.exit(1)
elif mode == "farthest":
    # farthest ORIGIN-ID CANDIDATES... (I=FILE): the candidate farthest
    # from the origin in the peer graph, ties by location distance
    origin, cands = sys.argv[2], sys.argv[3:]
    graph, loc, num = {}, {}, {}
    for c in cands:
        i, f = c.split("=", 1)
        d = load(f) or {}
        me = d.get("identity")
        if me is None:
            continue
        num[me] = i
        loc[me] = d.get("location", 0.0)
        for p in d.get("peers") or []:
            graph.setdefault(me, set()).add(p["identity"])
            graph.setdefault(p["identity"], set()).add(me)
    dist, todo = {origin: 0}, [origin]
    while todo:
        n = todo.pop(0)
        for m in graph.get(n, ()):
            if m not in dist:
                dist[m] = dist[n] + 1
                todo.append(m)
    o = loc.get(origin, 0.0)
    def key(me):
        x = abs(loc[me] - o)
        return (dist.get(me, 99), min(x, 1 - x))
    best = max((me for me in num if me != origin), key=key, default=None)
    if best:
        print(num[best], dist.get(best, 99))
PY

# flags I: "PEERS ADDRESS REACHABLE READY3 RELAYS_KNOWN" of node I, from
# a fresh status (FLAGS[I] too).
declare -a FLAGS
flags() {
	netns_status "$1" || rm -f "$TMP/st$1.json"
	FLAGS[$1]=$(python3 "$TMP/st.py" flags "$TMP/st$1.json")
	echo "${FLAGS[$1]}"
}

# is_public_ok I: node I announces its own address, reachable (FLAGS).
is_public_ok() {
	local f
	read -r -a f <<< "${FLAGS[$1]}"
	[ "${f[1]}" = "${NETNS_ADDR[$1]}:$NETNS_PORT" ] && [ "${f[2]}" = true ]
}
is_unreachable_ok() {
	local f
	read -r -a f <<< "${FLAGS[$1]}"
	[ "${f[1]}" = null ] && [ "${f[2]}" = false ]
}
has_path() {
	local f
	read -r -a f <<< "${FLAGS[$1]}"
	[ "${f[3]}" = 1 ]
}
npeers() {
	local f
	read -r -a f <<< "${FLAGS[$1]}"
	echo "${f[0]}"
}

# wait_paths SECONDS I...: until every node I has a ready 3-hop path.
wait_paths() {
	local secs=$1 t0=$SECONDS i short
	shift
	while :; do
		short=""
		for i in "$@"; do
			flags "$i" > /dev/null
			has_path "$i" || short="$short $i"
		done
		[ -z "$short" ] && return 0
		if [ $((SECONDS - t0)) -ge "$secs" ]; then
			diag "no ready 3-hop path after $secs s at node(s)$short"
			return 1
		fi
		sleep 1
	done
}

# when T: "at T s", or "not within $WAIT s" if T is empty.
when() { if [ -n "$1" ]; then echo "at $1 s"; else echo "not within $WAIT s"; fi; }

# untried NAME WHY: a check that could not run (what it needs failed).
untried() { ok 1 "$1 (not tried: $2)"; }

# getcmp I URI FILE SECONDS: a get at node I, compared with FILE; sets
# GET_MS (its time) and GET_ERR (its exit status and stderr's first
# line).
getcmp() {
	local t rc
	rm -f "$TMP/got"
	t=$(ms)
	UMBRA_TIMEOUT=$4 netns_umbra "$1" get "$2" -o "$TMP/got" 2> "$TMP/get.err"
	rc=$?
	GET_MS=$(($(ms) - t))
	GET_ERR="exit $rc"
	[ -s "$TMP/get.err" ] && GET_ERR="$GET_ERR: $(head -1 "$TMP/get.err")"
	[ $rc -eq 0 ] && cmp -s "$3" "$TMP/got"
}

# putdoc I FILE SECONDS: a put at node I; sets URI, PUT_MS, PUT_RC and
# PUT_ERR. Returns 0 if it gave one CHK@ line and warned of nothing
# pending (the network acknowledged the insert).
putdoc() {
	local t
	t=$(ms)
	UMBRA_TIMEOUT=$3 netns_umbra "$1" put "$2" > "$TMP/put.out" 2> "$TMP/put.err"
	PUT_RC=$?
	PUT_MS=$(($(ms) - t))
	URI=$(head -1 "$TMP/put.out")
	PUT_ERR=$(head -2 "$TMP/put.err" | tr '\n' ' ')
	[ $PUT_RC -eq 0 ] && [ "$(lines "$TMP/put.out")" = 1 ] &&
	    [ "${URI#CHK@}" != "$URI" ] &&
	    ! grep -qiE 'pending|not yet' "$TMP/put.err"
}

netns_setup || { ok 1 "the bridge namespace"; done_testing; }
diag "lines limited to $NETNS_RATE; networks $NETNS_NETS"

# ---- 1. two- and three-node networks: honest errors ----
# X = nodes 1, 2; Y = nodes 3, 4, 5, on the same bridge but not linked.
good=0
for i in 1 2 3 4 5; do
	netns_add_node "$i" > /dev/null || good=1
done
netns_start_node 1 || good=1
netns_start_node 2 --peer "$(netns_peer 1)" || good=1
netns_start_node 3 || good=1
netns_start_node 4 --peer "$(netns_peer 3)" || good=1
netns_start_node 5 --peer "$(netns_peer 3)" --peer "$(netns_peer 4)" || good=1
ok $good "nodes 1-5 start in namespaces of their own with the defaults (--peer only)"
for i in 1 2 3 4 5; do
	ID[i]=$(netns_identity "$i")
done
linked_all() {
	local i
	for i in "$@"; do
		flags "$i" > /dev/null
		[ "$(npeers "$i")" -ge 1 ] || return 1
	done
}
t0=$SECONDS
wait_until 20 linked_all 1 2 3 4 5
ok $? "nodes 1-5 link up (peers: $(for i in 1 2 3 4 5; do printf '%s ' "$(npeers $i)"; done)within $((SECONDS - t0)) s)"
diag "node 1: $(grep -m1 'listening on' "$TMP/n1.log" | cut -d' ' -f3-)"

# The documents' URIs, known before the puts: a node with no peers (13)
# gives a put's URI at once (SPEC), and the same bytes under the same
# name give the same URI, so each get below runs beside its put, not
# after it, and does not depend on the put's output.
good=0
netns_add_node 13 > /dev/null && netns_start_node 13 || good=1
for net in 2 3; do
	head -c 300000 /dev/urandom > "$TMP/h$net.doc"
	UMBRA_TIMEOUT=30 netns_umbra 13 put "$TMP/h$net.doc" > "$TMP/h$net.uri" \
	    2> /dev/null && grep -q '^CHK@' "$TMP/h$net.uri" || good=1
done
netns_stop_node 13 || good=1
ok $good "a node with no peers gives the URIs of the two documents"

# honest NET NODE put|get: in the background, a put of document NET at
# NODE, or a get of its URI; results in $TMP/hNET.put.* or hNET.get.*
honest() {
	local t
	t=$(ms)
	if [ "$3" = put ]; then
		UMBRA_TIMEOUT=40 netns_umbra "$2" put "$TMP/h$1.doc" \
		    > "$TMP/h$1.put.out" 2> "$TMP/h$1.put.err"
	else
		UMBRA_TIMEOUT=40 netns_umbra "$2" get "$(head -1 "$TMP/h$1.uri")" \
		    -o "$TMP/h$1.got" > /dev/null 2> "$TMP/h$1.get.err"
	fi
	echo "$? $(($(ms) - t))" > "$TMP/h$1.$3.rc"
}
hp=""
for job in "2 1 put" "2 2 get" "3 3 put" "3 5 get"; do
	# shellcheck disable=SC2086
	honest $job &
	hp="$hp $!"
done
PIDS="$PIDS $hp"
for p in $hp; do
	wait_gone "$p" 60
done
for net in 2 3; do
	read -r rc t < "$TMP/h$net.put.rc"
	[ "$rc" -eq 0 ] && [ "$t" -le 30000 ] &&
	    [ "$(lines "$TMP/h$net.put.out")" = 1 ] &&
	    cmp -s "$TMP/h$net.uri" "$TMP/h$net.put.out" &&
	    grep -qi 'relay' "$TMP/h$net.put.err"
	ok $? "$net-node network: put gives its URI within 30 s, pending, naming the relays (exit $rc, $t ms)"
	diag "put: $(head -2 "$TMP/h$net.put.err" | tr '\n' ' ')"
	read -r rc t < "$TMP/h$net.get.rc"
	[ "$rc" -ne 0 ] && [ "$t" -le 30000 ] &&
	    grep -qi 'relay' "$TMP/h$net.get.err" &&
	    ! grep -qi 'not found' "$TMP/h$net.get.err"
	ok $? "$net-node network: get fails within 30 s naming the relays, not 'not found' (exit $rc, $t ms)"
	diag "get: $(head -2 "$TMP/h$net.get.err" | tr '\n' ' ')"
done

# ---- 2. ten nodes, one behind a NAT ----
good=0
for i in 6 7 8 9; do
	netns_add_node "$i" > /dev/null || good=1
done
netns_add_nat_node $NAT > /dev/null || good=1
netns_start_node 6 --peer "$(netns_peer 2)" --peer "$(netns_peer 5)" || good=1
netns_start_node 7 --peer "$(netns_peer 6)" || good=1
netns_start_node 8 --peer "$(netns_peer 7)" || good=1
netns_start_node 9 --peer "$(netns_peer 8)" || good=1
netns_start_node $NAT --peer "$(netns_peer 9)" --peer "$(netns_peer 4)" || good=1
ok $good "nodes 6-9 start, and node $NAT unreachable from outside ($NETNS_NAT_MODE; its own address ${NETNS_ADDR[NAT]})"
for i in 6 7 8 9 $NAT; do
	ID[i]=$(netns_identity "$i")
done

# One wait for everything the network needs; each part timed.
t0=$SECONDS
T_LINK="" T_ADDR="" T_NAT="" T_PATH=""
while :; do
	l=0 a=0 n=0 p=0
	for i in $PUB $NAT; do
		flags "$i" > /dev/null
		[ "$(npeers "$i")" -ge 1 ] || l=1
		has_path "$i" || p=1
	done
	for i in $PUB; do
		is_public_ok "$i" || a=1
	done
	is_unreachable_ok $NAT || n=1
	dt=$((SECONDS - t0))
	[ $l -eq 0 ] && [ -z "$T_LINK" ] && T_LINK=$dt
	[ $a -eq 0 ] && [ -z "$T_ADDR" ] && T_ADDR=$dt
	[ $n -eq 0 ] && [ -z "$T_NAT" ] && T_NAT=$dt
	[ $p -eq 0 ] && [ -z "$T_PATH" ] && T_PATH=$dt
	[ $((l + a + n + p)) -eq 0 ] && break
	[ "$dt" -ge "$WAIT" ] && break
	sleep 1
done
[ -n "$T_LINK" ]
ok $? "all ten nodes linked (peers: $(for i in $PUB $NAT; do printf '%s ' "$(npeers "$i")"; done)at ${T_LINK:-no} s)"
[ -n "$T_ADDR" ]
ok $? "each public node announces HOST:9479 of its namespace, reachable: true ($(when "$T_ADDR"))"
for i in $PUB; do
	is_public_ok "$i" || diag "node $i (${NETNS_ADDR[i]}): peers address reachable ready3 relays_known = ${FLAGS[i]}"
done
[ -n "$T_NAT" ]
ok $? "the NAT'd node: address null, reachable false ($(when "$T_NAT"); now: ${FLAGS[NAT]})"
[ -n "$T_PATH" ]
ok $? "every node (the NAT'd one too) has a ready 3-hop path ($(when "$T_PATH"))"
for i in $PUB $NAT; do
	has_path "$i" || diag "node $i: no ready 3-hop path (${FLAGS[i]})"
done

# ---- 3. put at one node, get at the farthest, at a newcomer, and
# after the origin stopped ----
head -c $((2 * 1024 * 1024)) /dev/urandom > "$TMP/doc1"
BIG=24
grep -qa '__asan_init' "$UMBRA" && BIG=12 && diag "a sanitizer build: $BIG MiB instead of 24"
head -c $((BIG * 1024 * 1024)) /dev/urandom > "$TMP/docbig"
URI1="" URIBIG=""
if putdoc 1 "$TMP/doc1" 90; then
	URI1=$URI
	ok 0 "put 2 MiB at node 1: its URI, acknowledged ($PUT_MS ms)"
else
	ok 1 "put 2 MiB at node 1: its URI, acknowledged (exit $PUT_RC, $PUT_MS ms: $PUT_ERR)"
fi
if has_path 2 && putdoc 2 "$TMP/docbig" 120; then
	URIBIG=$URI
	ok 0 "put $BIG MiB at node 2: acknowledged ($PUT_MS ms, $((BIG * 1024 * 1000 / (PUT_MS + 1))) KiB/s)"
elif has_path 2; then
	ok 1 "put $BIG MiB at node 2: acknowledged (exit $PUT_RC, $PUT_MS ms: $PUT_ERR)"
else
	untried "put $BIG MiB at node 2" "node 2 has no 3-hop path"
fi

args=()
for i in $PUB; do
	[ "$i" -ne 1 ] && netns_status "$i" && args+=("$i=$TMP/st$i.json")
done
read -r FAR FARD <<< "$(python3 "$TMP/st.py" farthest "${ID[1]}" "${args[@]}")"
if [ -n "$URI1" ] && [ -n "$FAR" ]; then
	getcmp "$FAR" "$URI1" "$TMP/doc1" 90
	ok $? "get at node $FAR, farthest from node 1 ($FARD hops of links): the same bytes ($GET_MS ms; $GET_ERR)"
else
	untried "get at the farthest node" "no document"
fi

# Two newcomers, started after the puts: 11 fetches the put of node 1,
# 12 the big one while a relay of its path is killed.
good=0
netns_add_node 11 > /dev/null && netns_add_node 12 > /dev/null || good=1
netns_start_node 11 --peer "$(netns_peer 3)" || good=1
netns_start_node 12 --peer "$(netns_peer 7)" || good=1
ID[11]=$(netns_identity 11)
ID[12]=$(netns_identity 12)
t0=$SECONDS
if [ $good -eq 0 ] && wait_paths 60 11 12; then
	ok 0 "nodes 11 and 12 join after the puts; each has a ready 3-hop path ($((SECONDS - t0)) s)"
else
	ok 1 "nodes 11 and 12 join after the puts; each has a ready 3-hop path (not within 60 s)"
fi
if [ -n "$URI1" ] && has_path 11; then
	getcmp 11 "$URI1" "$TMP/doc1" 90
	ok $? "get at node 11, which joined after the put: the same bytes ($GET_MS ms; $GET_ERR)"
else
	untried "get at the node that joined after the put" "no document, or no path at node 11"
fi

# ---- 4. a relay killed in the middle of a 3-hop get ----
VICTIM="" VPOS=""
if [ -n "$URIBIG" ] && has_path 12; then
	netns_status 12
	while read -r pos r; do
		for j in $PUB; do
			[ "${ID[j]}" = "$r" ] || continue
			[ "$j" -ne 2 ] && [ "$j" -ne 1 ] && netns_alive "$j" && VICTIM=$j && VPOS=$pos
		done
		[ -n "$VICTIM" ] && break
	done < <(python3 "$TMP/st.py" relays "$TMP/st12.json")
fi
if [ -n "$VICTIM" ]; then
	ok 0 "node 12's paths have a relay to kill (node $VICTIM, hop $((VPOS + 1)))"
	rm -f "$TMP/gotbig" "$TMP"/gotbig.umbra-*
	t=$(ms)
	UMBRA_TIMEOUT=150 netns_umbra 12 get "$URIBIG" -o "$TMP/gotbig" \
	    2> "$TMP/getbig.err" &
	GETPID=$!
	PIDS="$PIDS $GETPID"
	got=0
	while [ $(($(ms) - t)) -lt 1000 ] && [ "$got" -lt 1048576 ] &&
	    kill -0 "$GETPID" 2> /dev/null; do
		sleep 0.02
		got=$(stat -c %s "$TMP"/gotbig.umbra-* 2> /dev/null | head -1)
		got=${got:-0}
	done
	running=1
	kill -0 "$GETPID" 2> /dev/null && running=0
	netns_kill_node "$VICTIM"
	diag "killed node $VICTIM $(($(ms) - t)) ms into the get, $got bytes written"
	ok $running "the get was still running when the relay was killed"
	wait_gone "$GETPID" 160
	rc=$RC
	dt=$(($(ms) - t))
	[ "$rc" -eq 0 ] && cmp -s "$TMP/docbig" "$TMP/gotbig"
	ok $? "the $BIG MiB get at node 12 completes, the same bytes (exit $rc, $dt ms, $((BIG * 1024 * 1000 / (dt + 1))) KiB/s)"
	[ -s "$TMP/getbig.err" ] && diag "get: $(head -2 "$TMP/getbig.err" | tr '\n' ' ')"
	diag "node 12 logged $(grep -c 'paths: a path of 3 failed' "$TMP/n12.log") path failures"
else
	untried "a 3-hop get survives a relay killed in the middle" \
	    "no big document, or no path at node 12"
fi
rm -f "$TMP/docbig" "$TMP/gotbig"

# ---- 5. the origin stops; the NAT'd node gets and puts ----
netns_stop_node 1
rc=$?
ok $rc "node 1 (the origin) stops on SIGTERM (status $rc)"
# A ten-node network caches an insert nearly everywhere on its way, so
# these gets may be served from the node's own store; node 14 below,
# started now, has none of either document.
if [ -n "$URI1" ] && has_path $NAT; then
	getcmp $NAT "$URI1" "$TMP/doc1" 90
	ok $? "get at the NAT'd node: the same bytes ($GET_MS ms; $GET_ERR)"
else
	untried "get at the NAT'd node" "no document, or no path at node $NAT"
fi
head -c $((1024 * 1024)) /dev/urandom > "$TMP/doc3"
URI3=""
if has_path $NAT && putdoc $NAT "$TMP/doc3" 90; then
	URI3=$URI
	ok 0 "put 1 MiB at the NAT'd node: acknowledged ($PUT_MS ms)"
elif has_path $NAT; then
	ok 1 "put 1 MiB at the NAT'd node: acknowledged (exit $PUT_RC, $PUT_MS ms: $PUT_ERR)"
else
	untried "put at the NAT'd node" "no path at node $NAT"
fi

# ---- 6. a newcomer after the origin stopped ----
good=0
P=8
[ "$P" = "$VICTIM" ] && P=9	# its only peer must be alive
netns_add_node 14 > /dev/null || good=1
netns_start_node 14 --peer "$(netns_peer $P)" || good=1
ID[14]=$(netns_identity 14)
t0=$SECONDS
[ $good -eq 0 ] && wait_paths 60 14
ok $? "node 14 joins after the origin stopped; it has a ready 3-hop path ($((SECONDS - t0)) s)"
if [ -n "$URI1" ] && has_path 14; then
	getcmp 14 "$URI1" "$TMP/doc1" 90
	ok $? "get at node 14 of node 1's put, after node 1 stopped: the same bytes ($GET_MS ms; $GET_ERR)"
else
	untried "get after the origin stopped" "no document, or no path at node 14"
fi
if [ -n "$URI3" ] && has_path 14; then
	getcmp 14 "$URI3" "$TMP/doc3" 90
	ok $? "get at node 14 of the NAT'd node's put: the same bytes ($GET_MS ms; $GET_ERR)"
else
	untried "get of the NAT'd node's put" "no document, or no path at node 14"
fi

# ---- 7. a node whose address changes ----
M=5
[ "$M" = "$VICTIM" ] && M=6
flags $M > /dev/null
if is_public_ok $M; then
	old=${NETNS_ADDR[M]}
	netns_move_address $M > /dev/null
	new=${NETNS_ADDR[M]}
	diag "node $M moved from $old to $new"
	t0=$SECONDS
	until flags $M > /dev/null && is_public_ok $M; do
		[ $((SECONDS - t0)) -ge "$MOVE" ] && break
		sleep 1
	done
	is_public_ok $M
	ok $? "node $M relearns its address: $new:9479, reachable (within $MOVE s: $((SECONDS - t0)) s; now ${FLAGS[M]})"
	t0=$SECONDS
	seen() {
		local j files=()
		for j in 2 3 4 6 7 8 9 11 12 14; do
			[ "$j" -ne "$M" ] && netns_alive "$j" && netns_status "$j" &&
			    files+=("$TMP/st$j.json")
		done
		python3 "$TMP/st.py" peer_at "${ID[M]}" "$new" "${files[@]}"
	}
	wait_until 30 seen
	ok $? "another node links to node $M at $new ($((SECONDS - t0)) s)"
else
	untried "a moved node relearns its address" "node $M never announced one"
	untried "another node links to the moved node" "node $M never announced one"
fi

# ---- 8. the NAT'd node in nobody's paths, over every status sample ----
for j in 2 3 4 5 6 7 8 9 11 12 14; do
	netns_alive "$j" && netns_status "$j"
done
nfiles=$(find "$TMP/samples" -name 'st*.json' ! -name "st$NAT.*" | wc -l)
python3 "$TMP/st.py" relayed "${ID[NAT]}" "$TMP"/samples/st*.json > "$TMP/relayed"
[ ! -s "$TMP/relayed" ] && [ "$nfiles" -gt 0 ]
ok $? "the NAT'd node is a relay in no other node's paths ($nfiles status samples; $(lines "$TMP/relayed") with it)"

# ---- 9. stop ----
good=0
for i in $(seq 14); do
	[ "$i" = "$VICTIM" ] && continue
	netns_alive "$i" || continue
	netns_stop_node "$i" || { good=1; diag "node $i did not stop cleanly"; }
done
ok $good "every node still running stops on SIGTERM with status 0"
for i in $(seq 14); do
	[ -f "$TMP/n$i.log" ] && check_node_log "$TMP/n$i.log"
done
diag "the whole test took $((SECONDS - T0)) s"
done_testing
