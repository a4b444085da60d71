#!/bin/bash
# network.sh - six real nodes linked in a sparse graph: a document put at
# one node is fetched by its key at the farthest one, survives the loss
# of its origin, and a key never inserted fails within SPEC's 120 s. A
# restarted node rejoins from its saved peers (SPEC "Command line",
# "Anonymity promises", "HTTP interface").
. "$(dirname "$0")/lib.sh"

N=6
K=3			# --max-peers: far from a full mesh of 6

# npeers DIR: how many peers the node in DIR reports (-1 if it does not
# answer).
npeers() {
	"$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["peers"]))' \
	    2>/dev/null || echo -1
}

# wait_peers SECONDS MIN DIR...: waits until every node in DIR... has at
# least MIN peers; at most SECONDS.
wait_peers() {
	local secs=$1 min=$2 t0=$SECONDS d short
	shift 2
	while :; do
		short=""
		for d in "$@"; do
			[ "$(npeers "$d")" -ge "$min" ] || short="$short $d"
		done
		[ -z "$short" ] && return 0
		if [ $((SECONDS - t0)) -ge "$secs" ]; then
			diag "fewer than $min peers after $secs s:$short"
			return 1
		fi
		sleep 0.5
	done
}

# wait_file FILE SECONDS: waits for FILE to be non-empty.
wait_file() {
	local t0=$SECONDS
	until [ -s "$1" ]; do
		[ $((SECONDS - t0)) -ge "$2" ] && return 1
		sleep 0.1
	done
}

D() { echo "$TMP/n$1"; }	# D I: node I's datadir

# ---- six nodes, each seeded with the one started before it ----
good=0
DIRS=()
for i in $(seq $N); do
	mkdir -p "$(D "$i")"
	if [ "$i" -eq 1 ]; then
		start_node "$(D 1)" --max-peers $K || good=1
	else
		start_node "$(D "$i")" --max-peers $K \
		    --peer "$(cat "$(D $((i - 1)))/address")" || good=1
	fi
	PID[i]=$NODE_PID
	DIRS+=("$(D "$i")")
	wait_file "$(D "$i")/address" 10 || { good=1; diag "node $i: no address"; }
done
ok $good "$N nodes start, each writes DIR/address"
grep -qE '^127\.0\.0\.1:[1-9][0-9]*#[A-Za-z0-9_-]{43}$' "$(D 1)/address"
ok $? "DIR/address holds HOST:PORT#PUBKEY"
t0=$SECONDS
wait_peers 30 1 "${DIRS[@]}"
ok $? "every node has a peer within 30 s ($((SECONDS - t0)) s)"

# ---- the graph, as the nodes report it ----
for i in $(seq $N); do
	"$UMBRA" status --datadir "$(D "$i")" --json > "$TMP/st$i.json" 2>/dev/null
done
python3 - "$TMP" $N $K > "$TMP/graph" <<'PY'
import json, sys
tmp, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
st = {}
for i in range(1, n + 1):
    try:
        st[i] = json.load(open("%s/st%d.json" % (tmp, i)))
    except Exception:
        st[i] = {"identity": "?%d" % i, "peers": []}
node_of = {st[i]["identity"]: i for i in st}
adj = {i: {node_of.get(p.get("identity")) for p in st[i]["peers"]} - {None}
       for i in st}
# BFS from node 1 over the links either end reports.
dist, todo = {1: 0}, [1]
while todo:
    u = todo.pop(0)
    for v in sorted(set(adj[u]) | {w for w in adj if u in adj[w]}):
        if v not in dist:
            dist[v] = dist[u] + 1
            todo.append(v)
far = max(sorted(dist), key=lambda v: dist[v])
print("dist", " ".join("%d:%s" % (i, dist.get(i, "-")) for i in sorted(st)))
print("far", far, dist[far])
print("reach", len(dist))
# path links (onion paths' on-demand links) are outside --max-peers
deg = {i: len([p for p in st[i]["peers"] if not p.get("path_link")])
       for i in st}
print("maxdeg", max(deg.values()))
print("deg", " ".join("%d:%d/%d" % (i, deg[i], len(st[i]["peers"]))
                      for i in sorted(st)))
PY
diag "$(head -1 "$TMP/graph")"
read -r _ FAR FARDIST < <(grep '^far ' "$TMP/graph")
[ "${FAR:-1}" -ne 1 ]; ok $? "node 1 is linked to the others"
if [ "${FAR:-1}" -eq 1 ]; then	# no graph: go on with any other node
	FAR=$N
	FARDIST='?'
fi
diag "farthest from node 1: node $FAR at $FARDIST hops"
[ "$(awk '/^reach/ { print $2 }' "$TMP/graph")" = $N ]
ok $? "the links make one connected graph"
[ "$(awk '/^maxdeg/ { print $2 }' "$TMP/graph")" -le $K ] 2>/dev/null
ok $? "no node has more than --max-peers $K links"
diag "links (counted / with path links): $(awk '/^deg / { $1 = ""; print }' "$TMP/graph")"

# ---- put at node 1, get at the farthest ----
head -c $((3 * 1024 * 1024)) /dev/urandom > "$TMP/doc"
t0=$SECONDS
timeout 150 "$UMBRA" put --datadir "$(D 1)" "$TMP/doc" > "$TMP/uri" 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && [ "$(lines "$TMP/uri")" = 1 ] && grep -q '^CHK@' "$TMP/uri"
ok $? "put 3 MiB at node 1: exit 0, one CHK@ line ($((SECONDS - t0)) s)"
! grep -q 'not yet in the network' "$TMP/err"
ok $? "with peers, put does not warn that the document is not in the network"
[ -s "$TMP/err" ] && diag "put: $(head -2 "$TMP/err")"
U=$(cat "$TMP/uri")
t0=$SECONDS
timeout 150 "$UMBRA" get --datadir "$(D "$FAR")" "$U" -o "$TMP/got" 2> "$TMP/err" &&
    cmp -s "$TMP/doc" "$TMP/got"
ok $? "get at node $FAR ($FARDIST hops away): the same bytes ($((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"

# ---- the origin goes away ----
stop_node "${PID[1]}"
ok $? "node 1 stops cleanly"
OTHER=""
for i in $(seq 2 $N); do
	[ "$i" -ne "$FAR" ] && { OTHER=$i; break; }
done
timeout 150 "$UMBRA" get --datadir "$(D "$OTHER")" "$U" -o "$TMP/got2" 2> "$TMP/err" &&
    cmp -s "$TMP/doc" "$TMP/got2"
ok $? "with node 1 gone, get at node $OTHER: the same bytes"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"

# ---- a well-formed key that was never inserted in this network ----
mkdir -p "$TMP/lone"
start_node "$TMP/lone"; ok $? "a separate node with no peers starts"
LONE=$NODE_PID
head -c 100000 /dev/urandom > "$TMP/other"
"$UMBRA" put --datadir "$TMP/lone" "$TMP/other" > "$TMP/uri.lone" 2>/dev/null
stop_node "$LONE"
UL=$(cat "$TMP/uri.lone")
grep -q '^CHK@' "$TMP/uri.lone"; ok $? "it gives a well-formed URI"
t0=$SECONDS
timeout 150 "$UMBRA" get --datadir "$(D "$FAR")" "$UL" -o "$TMP/none" > /dev/null \
    2> "$TMP/err"
rc=$?
el=$((SECONDS - t0))
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qi 'not found' "$TMP/err" &&
    [ "$(lines "$TMP/err")" = 1 ] && [ ! -e "$TMP/none" ]
ok $? "get of a key not in the network: non-zero, one line 'not found' (exit $rc)"
[ $el -le 120 ]; ok $? "... within 120 s ($el s)"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"

# ---- a restart rejoins from DIR/peers, with no --peer ----
R=$FAR
stop_node "${PID[$R]}"
ok $? "node $R stops cleanly"
[ -s "$(D "$R")/peers" ]; ok $? "it saved its peers in DIR/peers"
cp "$(D "$R").log" "$(D "$R").log.1"	# start_node starts a new log
start_node "$(D "$R")" --max-peers $K; ok $? "node $R restarts with no --peer"
PID[R]=$NODE_PID
t0=$SECONDS
wait_peers 20 1 "$(D "$R")"
ok $? "it rejoins from DIR/peers: a peer within 20 s ($((SECONDS - t0)) s)"

# ---- what status says about peers ----
"$UMBRA" status --datadir "$(D "$OTHER")" --json > "$TMP/st.json" &&
    python3 - "$TMP/st.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert 0 <= d["location"] < 1
assert d["peers"], "no peers"
for p in d["peers"]:
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", p["identity"]), p
    assert re.fullmatch(r"127\.0\.0\.1:[1-9][0-9]*", p["address"]), p
    assert isinstance(p["location"], (int, float)) and 0 <= p["location"] < 1, p
    assert isinstance(p["inbound"], bool), p
    assert p["identity"] != d["identity"], "itself as a peer"
PY
ok $? "status --json lists each peer's identity, address, location in [0,1), inbound"

for i in $(seq $N); do
	check_node_log "$(D "$i").log"
done
check_node_log "$(D "$R").log.1"
check_node_log "$TMP/lone.log"

done_testing
