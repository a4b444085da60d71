#!/bin/bash
# bignet.sh BUILDDIR - `make bignet`: BIGNET_NODES (default 100) real
# `umbra node` processes, each in a network namespace of its own with the
# defaults and a small store (netns.sh: own address, lines of NETNS_RATE,
# no route out), BIGNET_NAT of them (default 0) behind NAT routers. It
# measures and prints:
#  - the time until every node has a ready 3-hop path (status --json);
#  - BIGNET_DOCS documents (default 20, BIGNET_DOC_KB KiB each, default
#    256) put at random nodes, then BIGNET_GETS gets (default 100) of them
#    at random other nodes, checked byte for byte: the success rate, each
#    get's latency (min, median, 90th percentile, max), and its hops: 3
#    onion hops (the paths' length) plus the routing hops its blocks took
#    after the exit (the growth of the network's requests_in over that of
#    its local_requests around the get, from every node's status: the
#    command line and HTTP tell no hop count per get);
#  - each node's RSS (/proc/PID/status VmRSS: min, median, max, total);
#  - the same after SIGKILL of BIGNET_KILL % of the nodes (default 30):
#    the time until every survivor has a 3-hop path again, and
#    BIGNET_GETS more gets of the same documents at survivors.
# BIGNET_WAIT (default 600) bounds each wait for paths; every command has
# a timeout. Needs root (network namespaces); make check and CI run its
# 20-node version (bignet20.sh), not this one.
# BIGNET_KEEP=DIR keeps the node logs, the per-get records and the
# numbers of the nodes killed (killed.txt) there.
# Exit status: 0 if every node got a path in time and both rounds of gets
# reached 99 %; 1 otherwise; 2 on bad usage; 77 if it cannot run here.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
if [ $# -ne 1 ] || [ ! -x "$1/umbra" ]; then
	echo "usage: bignet.sh BUILDDIR (with BUILDDIR/umbra)" >&2
	exit 2
fi
UMBRA=$(cd "$1" && pwd)/umbra
. "$(dirname "$0")/netns.sh"

N=${BIGNET_NODES:-100}
NNAT=${BIGNET_NAT:-0}
DOCS=${BIGNET_DOCS:-20}
DOC_KB=${BIGNET_DOC_KB:-256}
GETS=${BIGNET_GETS:-100}
KILL=${BIGNET_KILL:-30}
STORE=${BIGNET_STORE:-64M}
WAIT=${BIGNET_WAIT:-600}
BATCH=10			# nodes started at once
for v in N NNAT DOCS DOC_KB GETS KILL WAIT; do
	case ${!v} in
	'' | *[!0-9]*) echo "bignet.sh: $v='${!v}' is not a number" >&2; exit 2 ;;
	esac
done
[ "$N" -ge 5 ] && [ "$NNAT" -lt "$N" ] && [ "$KILL" -lt 100 ] || {
	echo "bignet.sh: BIGNET_NODES >= 5, BIGNET_NAT < BIGNET_NODES, BIGNET_KILL < 100" >&2
	exit 2
}
if ! why=$(netns_check); then
	echo "bignet.sh: cannot run here: $why" >&2
	exit 77
fi

keep() {
	[ -n "${BIGNET_KEEP:-}" ] && mkdir -p "$BIGNET_KEEP" || return 0
	cp "$TMP"/n*.log "$TMP"/gets*.txt "$TMP"/puts.txt "$TMP"/killed.txt \
	    "$BIGNET_KEEP/" 2> /dev/null
	echo "kept in $BIGNET_KEEP"
}
trap 'keep; netns_cleanup; cleanup' EXIT

say() { echo "$(date +%T) $*"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$SECONDS
STATUS=0

cat > "$TMP/st.py" <<'PY'
import json, sys

def load(f):
    try:
        return json.load(open(f))
    except Exception:
        return None

mode = sys.argv[1]
if mode == "ready3":
    # ready3 FILE: 0 if the node has a ready path of 3 distinct relays,
    # never itself
    d = load(sys.argv[2]) or {}
    me = d.get("identity")
    for p in d.get("paths") or []:
        r = p.get("relays") or []
        if p.get("state") == "ready" and p.get("hops") == 3 and \
           len(set(r)) == 3 and me not in r:
            sys.exit(0)
    sys.exit(1)
elif mode == "counters":
    # counters FILE...: the sums of requests_in and local_requests
    a = b = 0
    for f in sys.argv[2:]:
        d = load(f) or {}
        r = d.get("routing") or {}
        a += r.get("requests_in", 0)
        b += r.get("local_requests", 0)
    print(a, b)
elif mode == "stats":
    # stats: numbers on stdin -> "min median p90 max total count"
    v = sorted(float(x) for x in sys.stdin.read().split())
    if not v:
        print("- - - - 0 0")
    else:
        q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
        f = lambda x: "%d" % x if x == int(x) else "%.2f" % x
        print(f(v[0]), f(q(0.5)), f(q(0.9)), f(v[-1]), f(sum(v)), len(v))
PY

# alive_nodes: the numbers of the nodes still running.
alive_nodes() {
	local i
	for i in $(seq "$N"); do
		netns_alive "$i" && echo "$i"
	done
}

# pick LIST...: one of LIST at random.
pick() {
	local a=("$@")
	echo "${a[RANDOM % ${#a[@]}]}"
}

# wait_all_paths LABEL: waits (BIGNET_WAIT) until every running node has
# a ready 3-hop path, printing progress every 30 s; sets T_PATHS (s) or
# leaves it empty.
wait_all_paths() {
	local t0=$SECONDS last=$SECONDS i have short
	T_PATHS=""
	while :; do
		have=0
		short=""
		for i in $(alive_nodes); do
			if netns_exec "$i" timeout 10 "$UMBRA" status --json \
			    > "$TMP/st$i.json" 2> /dev/null &&
			    python3 "$TMP/st.py" ready3 "$TMP/st$i.json"; then
				have=$((have + 1))
			else
				short="$short $i"
			fi
		done
		if [ -z "$short" ]; then
			T_PATHS=$((SECONDS - t0))
			say "$1: every node ($have) has a ready 3-hop path after $T_PATHS s"
			return 0
		fi
		if [ $((SECONDS - t0)) -ge "$WAIT" ]; then
			say "$1: after $WAIT s, $have nodes have a ready 3-hop path; not:$(echo "$short" | cut -c1-200)"
			return 1
		fi
		if [ $((SECONDS - last)) -ge 30 ]; then
			say "$1: $have nodes have a ready 3-hop path ($((SECONDS - t0)) s)"
			last=$SECONDS
		fi
	done
}

# rss LABEL: the running nodes' VmRSS.
rss() {
	local i
	for i in $(alive_nodes); do
		rss_kb "${NPID[i]}"
	done | python3 "$TMP/st.py" stats > "$TMP/rss"
	read -r a m _ x t c < "$TMP/rss"
	say "$1: RSS per node (MiB) min $((${a%.*} / 1024)), median $((${m%.*} / 1024)), max $((${x%.*} / 1024)); $((${t%.*} / 1024)) MiB for $c nodes"
}

# counters: the network's routing counters "REQUESTS_IN LOCAL_REQUESTS"
# (every running node's status, asked all at once).
counters() {
	local i files=()
	for i in $(alive_nodes); do
		netns_exec "$i" timeout 10 "$UMBRA" status --json \
		    > "$TMP/c$i.json" 2> /dev/null &
		files+=("$TMP/c$i.json")
	done
	wait
	python3 "$TMP/st.py" counters "${files[@]}"
}

# gets ROUND: GETS gets of the documents at random running nodes other
# than their origin, byte for byte; prints the figures; sets OK_PCT.
# Around each get the network's counters: a get whose blocks some exit
# had to route (local_requests grew) is a "routed" get, and the requests
# its blocks took from node to node (requests_in) over the blocks routed
# are its routing hops; the others were served by a store at once (the
# getter's own, or its exit's: neither is counted, so the two cannot be
# told apart here).
gets() {
	local round=$1 k d i t rc ok=0 c0 c1 alive out=$TMP/gets$1.txt
	read -r -a alive <<< "$(alive_nodes | tr '\n' ' ')"
	read -r -a c0 <<< "$(counters)"
	: > "$out"
	for k in $(seq "$GETS"); do
		d=$((k % DOCS))
		[ -n "${URI[d]:-}" ] || { echo "fail 0 - $d 0 0 no-uri" >> "$out"; continue; }
		i=${ORIGIN[d]}
		while [ "$i" = "${ORIGIN[d]}" ]; do
			i=$(pick "${alive[@]}")
		done
		t=$(ms)
		UMBRA_TIMEOUT=150 netns_umbra "$i" get "${URI[d]}" -o "$TMP/got" \
		    2> "$TMP/get.err"
		rc=$?
		t=$(($(ms) - t))
		read -r -a c1 <<< "$(counters)"
		if [ $rc -eq 0 ] && cmp -s "$TMP/doc$d" "$TMP/got"; then
			ok=$((ok + 1))
			echo "ok $t $i $d $((c1[0] - c0[0])) $((c1[1] - c0[1]))" >> "$out"
		else
			echo "fail $t $i $d $((c1[0] - c0[0])) $((c1[1] - c0[1])) exit $rc: $(head -1 "$TMP/get.err")" >> "$out"
		fi
		c0=("${c1[@]}")
		rm -f "$TMP/got"
	done
	OK_PCT=$((ok * 100 / GETS))
	say "round $round: $ok of $GETS gets ok ($OK_PCT %) at ${#alive[@]} nodes"
	awk '$1 == "ok" { print $2 }' "$out" | python3 "$TMP/st.py" stats > "$TMP/lat"
	read -r a m p x _ c < "$TMP/lat"
	say "round $round: latency per get (ms, ${DOC_KB} KiB): min $a, median $m, p90 $p, max $x"
	awk '$1 == "ok" && $6 > 0 { print $2 }' "$out" | python3 "$TMP/st.py" stats > "$TMP/lat"
	read -r a m p x _ c < "$TMP/lat"
	say "round $round: $c gets routed by their exit: latency min $a, median $m, p90 $p, max $x ms"
	awk '$1 == "ok" && $6 > 0 { print $5 / $6 }' "$out" | python3 "$TMP/st.py" stats > "$TMP/hops"
	read -r a m p x _ c < "$TMP/hops"
	say "round $round: hops per get: 3 onion hops, then routing hops per block (routed gets) min $a, median $m, p90 $p, max $x; $(awk '$1 == "ok" && $6 == 0' "$out" | wc -l) gets served by a store with no routing"
	if [ "$ok" -lt "$GETS" ]; then
		say "round $round: failures by message:"
		grep '^fail' "$out" | cut -d' ' -f7- | sed 's/CHK@[^ ]*/CHK@.../' |
		    sort | uniq -c | sort -rn | head -5 | sed 's/^/    /'
	fi
}

# ---- the network ----
say "bignet: $N nodes ($NNAT behind NAT), lines $NETNS_RATE, stores $STORE, networks $NETNS_NETS"
netns_setup || { echo "bignet.sh: cannot make the bridge" >&2; exit 1; }
TSTART=$SECONDS
declare -a URI ORIGIN
NETNS_NOWAIT=1
# add_node I: node I's namespace, behind a NAT router for the last NNAT.
add_node() {
	if [ "$1" -gt $((N - NNAT)) ]; then
		netns_add_nat_node "$1" $((($1 - 1) % 8 + 1)) > /dev/null
	else
		netns_add_node "$1" > /dev/null
	fi || { echo "bignet.sh: cannot make node $1's namespace" >&2; exit 1; }
}
# Node 1 first; then batches of BATCH at once, each node seeded (as a
# newcomer takes seeds from a list) with one or two nodes of the earlier
# batches.
add_node 1
netns_start_node 1 --store-size "$STORE"
netns_wait_ready 1 || { echo "bignet.sh: node 1 did not start: $(tail -2 "$TMP/n1.log")" >&2; exit 1; }
for ((b = 2; b <= N; b += BATCH)); do
	for ((i = b; i < b + BATCH && i <= N; i++)); do
		add_node "$i"
		j=$((RANDOM % (b - 1) + 1))
		peers=(--peer "$(netns_peer "$j")")
		j2=$((RANDOM % (b - 1) + 1))
		[ "$j2" -ne "$j" ] && peers+=(--peer "$(netns_peer "$j2")")
		netns_start_node "$i" --store-size "$STORE" "${peers[@]}"
	done
	for ((i = b; i < b + BATCH && i <= N; i++)); do
		netns_wait_ready "$i" || { echo "bignet.sh: node $i did not start: $(tail -2 "$TMP/n$i.log")" >&2; exit 1; }
	done
done
unset NETNS_NOWAIT
say "all $N nodes started in $((SECONDS - TSTART)) s"
wait_all_paths "start" || STATUS=1
T1=${T_PATHS:-}
[ -n "$T1" ] && say "time until every node has a 3-hop path: $T1 s after the last node started, $((SECONDS - TSTART)) s after the first"
rss "start"

# ---- documents ----
tput=0
pfail=0
: > "$TMP/puts.txt"
for d in $(seq 0 $((DOCS - 1))); do
	head -c $((DOC_KB * 1024)) /dev/urandom > "$TMP/doc$d"
	i=$((RANDOM % N + 1))
	ORIGIN[d]=$i
	t=$(ms)
	UMBRA_TIMEOUT=150 netns_umbra "$i" put "$TMP/doc$d" > "$TMP/put.out" 2> "$TMP/put.err"
	rc=$?
	t=$(($(ms) - t))
	tput=$((tput + t))
	if [ $rc -eq 0 ] && grep -q '^CHK@' "$TMP/put.out"; then
		URI[d]=$(head -1 "$TMP/put.out")
		grep -qiE 'pending|not yet' "$TMP/put.err" && pfail=$((pfail + 1))
		echo "ok $t $i $d $(head -1 "$TMP/put.err")" >> "$TMP/puts.txt"
	else
		pfail=$((pfail + 1))
		echo "fail $t $i $d exit $rc: $(head -1 "$TMP/put.err")" >> "$TMP/puts.txt"
	fi
done
say "puts: $DOCS documents of $DOC_KB KiB at random nodes, $((DOCS - pfail)) acknowledged, $((tput / DOCS)) ms each on average"
[ "$pfail" -gt 0 ] && say "puts not acknowledged: $(grep -v '^ok [0-9]* [0-9]* [0-9]* $' "$TMP/puts.txt" | head -2 | cut -d' ' -f5- | tr '\n' ' ')"

gets 1
[ "$OK_PCT" -ge 99 ] || STATUS=1

# ---- kill KILL % ----
nk=$((N * KILL / 100))
read -r -a victims <<< "$(alive_nodes | shuf -n "$nk" | tr '\n' ' ')"
for i in "${victims[@]}"; do
	netns_kill_node "$i"	# forgets its PID: pid_max is 32768 here
done
echo "${victims[*]}" > "$TMP/killed.txt"
gone=0
for i in "${victims[@]}"; do
	for d in $(seq 0 $((DOCS - 1))); do
		[ "${ORIGIN[d]}" = "$i" ] && gone=$((gone + 1))
	done
done
say "killed $nk nodes (SIGKILL; the origins of $gone documents among them)"
wait_all_paths "after the kill" || STATUS=1
rss "after the kill"
gets 2
[ "$OK_PCT" -ge 99 ] || STATUS=1
rss "end"
say "bignet took $((SECONDS - T0)) s; $([ $STATUS -eq 0 ] && echo passed || echo FAILED)"
exit $STATUS
