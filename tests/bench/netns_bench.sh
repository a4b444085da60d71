#!/bin/bash
# netns_bench.sh BUILDDIR - the namespaced network case of `make bench`
# (issue 14, "Speed"); bench.sh runs it last, and it can run alone.
#
# BENCH_NETNS_NODES (default 10) real `umbra node` processes with their
# defaults, each in a network namespace of its own on one bridge
# (tests/net/netns.sh: an address of its own in 198.18.0.0/15, both
# directions of its line limited by tc tbf to NETNS_RATE, default
# 100mbit here; no netem, so no delay or loss). Measured:
#  - a put of BENCH_NETNS_SIZE bytes (default 64 MiB) of random data at
#    node 1, over its default 3-hop path, timed until `umbra put` answers
#    (the network acknowledged every block);
#  - a get of it with the default 3 hops at a node that joined after the
#    put and holds nothing, so every block crosses the lines; `cmp` with
#    the file.
# Each is printed as MB/s and as a share of the line rate, as bench.sh
# prints its rows, with the tc counters of every line (what the lines
# carried, drops), the nodes' CPU time, and the paths.
#
# Not a timed test: a missed target is reported. Exit status: 0 (also
# when the case is skipped: not root, or no namespaces here, which it
# says), 1 if something broke (a node, the paths, the put, the get, cmp),
# 2 on bad usage. Every namespace and process goes on any exit
# (netns.sh). Needs about 700 MiB in ${TMPDIR:-/tmp} (eleven stores and
# the document).

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
if [ $# -ne 1 ] || [ ! -x "$1/umbra" ]; then
	echo "usage: netns_bench.sh BUILDDIR (with BUILDDIR/umbra)" >&2
	exit 2
fi
UMBRA=$(cd "$1" && pwd)/umbra
NETNS_RATE=${NETNS_RATE:-100mbit}
. "$(dirname "$0")/../net/netns.sh"

for v in BENCH_NETNS_NODES BENCH_NETNS_SIZE BENCH_NETNS_WAIT; do
	case ${!v-1} in
	'' | *[!0-9]*) echo "netns_bench.sh: $v='${!v}' is not a number" >&2
		exit 2 ;;
	esac
done
N=${BENCH_NETNS_NODES:-10}
SIZE=${BENCH_NETNS_SIZE:-67108864}
WAIT=${BENCH_NETNS_WAIT:-90}	# s for the links and paths to come up
TARGET_GET_SHARE=0.7		# of the line rate, from the issue
[ "$N" -ge 5 ] && [ "$N" -le 100 ] || {
	echo "netns_bench.sh: BENCH_NETNS_NODES from 5 to 100" >&2
	exit 2
}
NEW=$((N + 1))			# the node that joins after the put

if ! why=$(netns_check); then
	echo "# --- network in namespaces: skipped: $why ---"
	exit 0
fi

die() {
	echo "netns_bench.sh: $*" >&2
	local i
	for i in $(seq "$NEW"); do
		[ -s "$TMP/n$i.log" ] || continue
		tail -n 2 "$TMP/n$i.log" | sed "s/^/#   n$i: /" >&2
	done
	exit 1
}
now() { date +%s.%N; }
calc() {	# calc EXPR [VAR=VALUE...]
	local expr=$1
	shift
	awk "$@" "BEGIN { printf \"%.6f\", $expr }" < /dev/null
}
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }' < /dev/null; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }' < /dev/null; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' < /dev/null; }
verdict() { if ge "$1" "$2"; then echo PASS; else echo MISS; fi; }

# What status --json and tc -s -j show, read by one script.
cat > "$TMP/nb.py" << 'PY'
import json, sys

def load(f):
    try:
        return json.load(open(f))
    except Exception:
        return None

def ready3(d):
    me = d.get("identity")
    return [p for p in d.get("paths") or []
            if p.get("state") == "ready" and p.get("hops") == 3 and
            len(set(p.get("relays") or [])) == 3 and me not in p["relays"]]

mode = sys.argv[1]
if mode == "flags":
    # flags FILE: "PEERS READY3 RELAYS_KNOWN BLOCKS RELAYED_PATHS" (-1
    # ... if none)
    d = load(sys.argv[2])
    if d is None:
        print("-1 0 0 -1 0")
    else:
        print(len(d.get("peers") or []), 1 if ready3(d) else 0,
              d.get("relays_known", 0), (d.get("store") or {}).get("blocks", -1),
              d.get("relayed_paths", 0))
elif mode == "paths":
    # paths FILE ID=NUM...: the ready 3-hop paths as node numbers, first
    # hop first: "a>b>c d>e>f"
    d = load(sys.argv[2]) or {}
    num = dict(a.split("=", 1) for a in sys.argv[3:])
    print(" ".join(">".join(num.get(r, "?") for r in p["relays"])
                   for p in ready3(d)) or "-")
elif mode == "gains":
    # gains DIR A B N: over nodes 1..N, between status files DIR/AI.json
    # and DIR/BI.json: "INSERTS_IN STORE_BLOCKS OWN1" (the sums of
    # routing.inserts_in and store.blocks gained, node 1's own_blocks)
    t, a, b, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    g = lambda d, k, f: (d.get(k) or {}).get(f, 0)
    ins = blk = own = 0
    for i in range(1, n + 1):
        x = load("%s/%s%d.json" % (t, a, i)) or {}
        y = load("%s/%s%d.json" % (t, b, i)) or {}
        ins += g(y, "routing", "inserts_in") - g(x, "routing", "inserts_in")
        blk += g(y, "store", "blocks") - g(x, "store", "blocks")
        if i == 1:
            own = g(y, "store", "own_blocks") - g(x, "store", "own_blocks")
    print(ins, blk, own)
elif mode == "pernode":
    # pernode DIR A B N NB LINES RATE SECS: for each node, its links (at
    # A), the INSERTs it received per block of the put and its out-line's
    # busy share (LINES: lines_diff's output): "nI:L/X/Y ..."
    t, a, b, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    nb, rate, secs = float(sys.argv[6]), float(sys.argv[8]), float(sys.argv[9])
    out = {}
    for l in open(sys.argv[7]):
        f = l.split()
        out[f[0]] = int(f[1])
    res = []
    for i in range(1, n + 1):
        x = load("%s/%s%d.json" % (t, a, i)) or {}
        y = load("%s/%s%d.json" % (t, b, i)) or {}
        ins = (y.get("routing") or {}).get("inserts_in", 0) - \
            (x.get("routing") or {}).get("inserts_in", 0)
        res.append("n%d:%d/%.1f/%.2f" % (i, len(x.get("peers") or []),
                   ins / nb, out.get("n%d.out" % i, 0) / (rate * secs)))
    print(" ".join(res))
elif mode == "tc":
    # tc NAME < tc -s -j qdisc show dev X: "NAME BYTES PACKETS DROPS
    # OVERLIMITS RATE" of its root tbf
    q = [x for x in json.load(sys.stdin) if x.get("root")][0]
    print(sys.argv[2], q["bytes"], q["packets"], q["drops"], q["overlimits"],
          q.get("options", {}).get("rate", 0))
PY

# flags I: "PEERS READY3 RELAYS_KNOWN BLOCKS RELAYED_PATHS" of node I,
# fresh.
flags() {
	netns_status "$1" || rm -f "$TMP/st$1.json"
	python3 "$TMP/nb.py" flags "$TMP/st$1.json"
}

# wait_ready SECS I...: until every node I has a link and a ready 3-hop
# path; sets T_READY.
wait_ready() {
	local secs=$1 t0 short i p r
	shift
	t0=$(now)
	while :; do
		short=""
		for i in "$@"; do
			netns_alive "$i" || die "node $i exited"
			read -r p r _ < <(flags "$i")
			[ "$p" -ge 1 ] && [ "$r" = 1 ] || short="$short $i"
		done
		T_READY=$(calc "b - a" -v a="$t0" -v b="$(now)")
		[ -z "$short" ] && return 0
		ge "$T_READY" "$secs" && die "no link or no ready 3-hop path" \
		    "after $secs s at node(s)$short"
		sleep 0.5
	done
}

# snap_all PREFIX: every running node's status into $TMP/PREFIX$I.json.
snap_all() {
	local i
	for i in $(seq "$NEW"); do
		netns_alive "$i" || continue
		netns_status "$i" && cp "$TMP/st$i.json" "$TMP/$1$i.json" ||
		    die "node $i does not answer status"
	done
}

# lines_snap FILE: the tc counters of every line into FILE, one
# "NAME BYTES PACKETS DROPS OVERLIMITS RATE" each: nI.out (node I's
# eth0, what it sends) and nI.in (the bridge's vI, what it receives).
lines_snap() {
	local i
	: > "$1"
	for i in $(seq "$NEW"); do
		ip netns list | grep -q "^$(netns_ns "$i")\b" || continue
		tc -n "$(netns_ns "$i")" -s -j qdisc show dev eth0 |
		    python3 "$TMP/nb.py" tc "n$i.out" >> "$1" || return 1
		tc -n "$NETNS_BR" -s -j qdisc show dev "v$i" |
		    python3 "$TMP/nb.py" tc "n$i.in" >> "$1" || return 1
	done
}
# lines_diff A B: per line, what it carried between snapshots A and B:
# "NAME BYTES PACKETS DROPS OVERLIMITS" (lines that carried nothing are
# left out).
lines_diff() {
	awk 'NR == FNR { b[$1] = $2; p[$1] = $3; d[$1] = $4; o[$1] = $5; next }
	    { db = $2 - b[$1]; if (db > 0) print $1, db, $3 - p[$1],
	    $4 - d[$1], $5 - o[$1] }' "$1" "$2"
}

# cpu_snap FILE: each node's CPU time (user + system, clock ticks).
cpu_snap() {
	local i
	: > "$1"
	for i in $(seq "$NEW"); do
		netns_alive "$i" || continue
		awk -v i="$i" '{ sub(/.*\) /, ""); print i, $12 + $13 }' \
		    "/proc/${NPID[i]}/stat" >> "$1"
	done
}
# cpu_diff A B: "TOTAL_S NODE:S ..." (the three busiest nodes).
cpu_diff() {
	local hz
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" 'NR == FNR { a[$1] = $2; next }
	    { d = ($2 - a[$1]) / hz; t += d; printf "%s %.2f\n", $1, d }
	    END { printf "total %.2f\n", t }' "$1" "$2" |
	    sort -k2 -rn | awk '$1 == "total" { t = $2; next }
	    n < 3 { s = s sprintf(" node%s:%s", $1, $2); n++ }
	    END { print t s }'
}

echo "# --- network in namespaces: $N nodes with the defaults, lines of" \
    "$NETNS_RATE (tc tbf both ways, burst $NETNS_BURST; no delay or loss" \
    "emulated), $SIZE bytes random; load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) ---"
T0=$(now)
netns_setup || die "cannot make the bridge namespace"
# Node 1 first; each other node seeded with node 1 and the one before it.
netns_add_node 1 > /dev/null || die "cannot make node 1's namespace"
netns_start_node 1 || die "node 1 did not start"
NETNS_NOWAIT=1
for i in $(seq 2 "$N"); do
	netns_add_node "$i" > /dev/null || die "cannot make node $i's namespace"
	peers=(--peer "$(netns_peer 1)")
	[ "$i" -gt 2 ] && peers+=(--peer "$(netns_peer $((i - 1)))")
	netns_start_node "$i" "${peers[@]}"
	netns_wait_ready "$i" || die "node $i did not start"
done
unset NETNS_NOWAIT
wait_ready "$WAIT" $(seq "$N")
echo "# $N nodes started; every one linked with a ready 3-hop path" \
    "$(fmt1 "$T_READY") s after the last started"
declare -a NUMARGS
for i in $(seq "$N"); do
	NUMARGS+=("$(netns_identity "$i")=$i")
done

# The document: random bytes, as bench.sh makes them.
if command -v openssl > /dev/null 2>&1; then
	key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	openssl enc -aes-128-ctr -K "$key" -iv 00000000000000000000000000000000 \
	    -in /dev/zero 2> /dev/null | head -c "$SIZE" > "$TMP/doc"
else
	head -c "$SIZE" /dev/urandom > "$TMP/doc"
fi
[ "$(stat -c %s "$TMP/doc")" -eq "$SIZE" ] || die "cannot write $TMP/doc"

# ---- the put at node 1 ----
snap_all p0_
lines_snap "$TMP/l0" || die "cannot read the lines' tc counters"
cpu_snap "$TMP/c0"
t0=$(now)
UMBRA_TIMEOUT=600 netns_umbra 1 put "$TMP/doc" > "$TMP/put.out" \
    2> "$TMP/put.err"
rc=$?
t1=$(now)
lines_snap "$TMP/l1" || die "cannot read the lines' tc counters"
cpu_snap "$TMP/c1"
snap_all p1_
URI=$(head -1 "$TMP/put.out")
[ $rc -eq 0 ] && [ "${URI#CHK@}" != "$URI" ] ||
	die "put at node 1 failed (exit $rc): $(head -c 300 "$TMP/put.err")"
grep -qiE 'pending|not yet' "$TMP/put.err" &&
	die "put at node 1 answered before the network acknowledged it:" \
	    "$(head -c 300 "$TMP/put.err")"
PUT_S=$(calc "b - a" -v a="$t0" -v b="$t1")
read -r PUT_CPU PUT_CPU_TOP < <(cpu_diff "$TMP/c0" "$TMP/c1")
lines_diff "$TMP/l0" "$TMP/l1" > "$TMP/lput"
RATE=$(awk '$1 == "n1.out" { print $6 }' "$TMP/l1")	# bytes/s, from tc
[ "${RATE:-0}" -gt 0 ] || die "no rate in node 1's tbf"
PUT_LINE_B=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/lput")
PUT_N1_B=$(awk '$1 == "n1.out" { print $2 }' "$TMP/lput")
PUT_DROPS=$(awk '{ s += $4 } END { print s + 0 }' "$TMP/lput")
read -r PUT_INS PUT_COPIES PUT_NB < <(python3 "$TMP/nb.py" gains "$TMP" p0_ \
    p1_ "$N")
[ "$PUT_NB" -gt 0 ] || die "node 1 holds none of its put's blocks"

PUT_PATHS=$(python3 "$TMP/nb.py" paths "$TMP/p1_1.json" "${NUMARGS[@]}")

# ---- a node that joins after the put ----
netns_add_node "$NEW" > /dev/null || die "cannot make node $NEW's namespace"
netns_start_node "$NEW" --peer "$(netns_peer "$N")" ||
	die "node $NEW did not start"
wait_ready "$WAIT" "$NEW"
NEW_READY=$T_READY
read -r _ _ NEW_RELAYS NEW_BLOCKS _ < <(flags "$NEW")
[ "$NEW_BLOCKS" = 0 ] || die "node $NEW holds $NEW_BLOCKS blocks before its get"
NUMARGS+=("$(netns_identity "$NEW")=$NEW")
GET_PATHS=$(python3 "$TMP/nb.py" paths "$TMP/st$NEW.json" "${NUMARGS[@]}")

# ---- the 3-hop get there ----
# What node NEW's in-line has carried ("TIME BYTES", tbf's count), every
# 0.1 s while $TMP/sampling exists: when the blocks began and stopped
# coming, and their rate in between.
touch "$TMP/sampling"
(
	while [ -e "$TMP/sampling" ]; do
		b=$(tc -n "$NETNS_BR" -s qdisc show dev "v$NEW" |
		    awk '$1 == "Sent" { print $2; exit }')
		echo "$(now) $b"
		sleep 0.1
	done
) > "$TMP/insamples" 2> /dev/null &
SAMPLER=$!
PIDS="$PIDS $SAMPLER"
lines_snap "$TMP/l2" || die "cannot read the lines' tc counters"
cpu_snap "$TMP/c2"
t0=$(now)
UMBRA_TIMEOUT=600 netns_umbra "$NEW" get "$URI" -o "$TMP/got" \
    2> "$TMP/get.err"
rc=$?
t1=$(now)
rm -f "$TMP/sampling"
wait "$SAMPLER"
lines_snap "$TMP/l3" || die "cannot read the lines' tc counters"
cpu_snap "$TMP/c3"
[ $rc -eq 0 ] || die "get at node $NEW failed (exit $rc):" \
    "$(head -c 300 "$TMP/get.err")"
cmp -s "$TMP/doc" "$TMP/got" || die "get at node $NEW: the output differs"
rm -f "$TMP/got"
GET_S=$(calc "b - a" -v a="$t0" -v b="$t1")
read -r GET_CPU GET_CPU_TOP < <(cpu_diff "$TMP/c2" "$TMP/c3")
read -r p _ _ _ NEW_RELAYED < <(flags "$NEW")
[ "$p" -ge 0 ] || die "node $NEW does not answer after its get"
GET_PATHS_AFTER=$(python3 "$TMP/nb.py" paths "$TMP/st$NEW.json" "${NUMARGS[@]}")
lines_diff "$TMP/l2" "$TMP/l3" > "$TMP/lget"
GET_IN_B=$(awk -v n="n$NEW.in" '$1 == n { print $2 }' "$TMP/lget")
GET_IN_P=$(awk -v n="n$NEW.in" '$1 == n { print $3 }' "$TMP/lget")
GET_OUT_B=$(awk -v n="n$NEW.out" '$1 == n { print $2 }' "$TMP/lget")
GET_DROPS=$(awk '{ s += $4 } END { print s + 0 }' "$TMP/lget")
GET_LINE_B=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/lget")
# From the samples: "FIRST LAST MBPS BEST": when node NEW's in-line first
# and last carried over 64 KiB in a sample (s after the get started), its
# rate between them and its best 1 s (MB/s of line bytes).
read -r IN_FIRST IN_LAST IN_MBPS IN_BEST < <(awk -v t0="$t0" '
	$2 == "" { next }
	{ n++; t[n] = $1; b[n] = $2 }
	END {
		for (i = 2; i <= n; i++) {
			if (b[i] - b[i - 1] <= 65536)
				continue
			if (!f) f = i - 1
			l = i
		}
		if (!f) { print "- - 0 0"; exit }
		for (i = f; i <= l; i++)
			for (j = i + 1; j <= l; j++)
				if (t[j] - t[i] >= 1) {
					r = (b[j] - b[i]) / (t[j] - t[i])
					if (r > best) best = r
					break
				}
		a = t[f] - t0
		printf "%.2f %.2f %.2f %.2f\n", a < 0 ? 0 : a, t[l] - t0,
		    (b[l] - b[f]) / (t[l] - t[f]) / 1e6, best / 1e6
	}' "$TMP/insamples")

DISK_MB=$(du -sm "$TMP" | cut -f1)

# ---- stop ----
bad=""
for i in $(seq "$NEW"); do
	netns_stop_node "$i" || bad="$bad $i"
done
[ -z "$bad" ] || die "node(s)$bad did not stop cleanly on SIGTERM"
for i in $(seq "$NEW"); do
	! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "$TMP/n$i.log" || die "a sanitizer report in node $i's log"
done

# ---- the report ----
LINE_MBPS=$(calc "r / 1e6" -v r="$RATE")
row() {		# row CASE SECS NOTE...
	local mbps
	mbps=$(calc "n / s / 1e6" -v n="$SIZE" -v s="$2")
	printf '%-26s %8.1f %7.2f s  %-10s %7.1f  %5.2f  %s\n' "$1" "$mbps" \
	    "$2" "line rate" "$LINE_MBPS" "$(calc "m / l" -v m="$mbps" \
	    -v l="$LINE_MBPS")" "${*:3}"
}
echo "# --- network in namespaces: results (MB = 10^6 bytes of the" \
    "document; line rate $NETNS_RATE = $(fmt1 "$LINE_MBPS") MB/s each way)" \
    "---"
printf '%-26s %8s %9s  %-10s %7s  %5s  %s\n' case MB/s time "bound by" \
    limit ratio note
row "put at node1, 3 hops" "$PUT_S" "acknowledged by the network"
row "get at node$NEW -o, 3 hops" "$GET_S" "cmp ok; node$NEW joined after" \
    "the put, held nothing"
GET_MBPS=$(calc "n / s / 1e6" -v n="$SIZE" -v s="$GET_S")
GET_SHARE=$(calc "m / l" -v m="$GET_MBPS" -v l="$LINE_MBPS")
PUT_MBPS=$(calc "n / s / 1e6" -v n="$SIZE" -v s="$PUT_S")
# x A: A as a multiple of the document; busy B S: B bytes as a share of
# what one line carries in S seconds.
x() { fmt2 "$(calc "a / n" -v a="$1" -v n="$SIZE")"; }
busy() { fmt2 "$(calc "b / (r * s)" -v b="$1" -v r="$RATE" -v s="$2")"; }
# top LINES SECS K: the K busiest lines of a lines_diff, "NAME BUSY ...".
top() {
	awk -v r="$RATE" -v s="$2" '{ printf "%s %.2f\n", $1, $2 / (r * s) }' \
	    "$1" | sort -k2 -rn | head -n "$3" | tr '\n' ' '
}
echo "# put: $PUT_NB blocks; node1's 3-hop paths (relays, first hop" \
    "first): $PUT_PATHS. The lines carried $(x "$PUT_LINE_B") x the" \
    "document, counted at both ends (node1's out-line $(x "$PUT_N1_B") x;" \
    "mean use of the $N lines, both ways, $(fmt2 "$(calc \
    "b / (2 * n * r * s)" -v b="$PUT_LINE_B" -v n="$N" -v r="$RATE" \
    -v s="$PUT_S")"); at that traffic they could carry at most" \
    "$(fmt1 "$(calc "2 * n * r * d / b / 1e6" -v n="$N" -v r="$RATE" \
    -v d="$SIZE" -v b="$PUT_LINE_B")") MB/s of document); $PUT_DROPS tbf" \
    "drops; busiest (busy share): $(top "$TMP/lput" "$PUT_S" 4)"
echo "# put: $(fmt1 "$(calc "a / b" -v a="$PUT_INS" -v b="$PUT_NB")")" \
    "INSERTs received per block over the nodes (each carries the block;" \
    "loops and refusals count), $(fmt1 "$(calc "a / b" -v a="$PUT_COPIES" \
    -v b="$PUT_NB")") copies in the stores (node1's own included); per" \
    "node, links/INSERTs received per block/out-line busy share:" \
    "$(python3 "$TMP/nb.py" pernode "$TMP" p0_ p1_ "$N" "$PUT_NB" \
    "$TMP/lput" "$RATE" "$PUT_S"); the nodes used $PUT_CPU s of CPU in" \
    "$(fmt2 "$PUT_S") s (most:$PUT_CPU_TOP)"
echo "# get: node$NEW's 3-hop paths: $GET_PATHS (after: $GET_PATHS_AFTER)." \
    "Its in-line carried $(x "$GET_IN_B") x the document ($GET_IN_B bytes" \
    "in $GET_IN_P frames as tbf counts them, Ethernet headers on: at most" \
    "$(fmt2 "$(calc "n / b" -v n="$SIZE" -v b="$GET_IN_B")") of the line" \
    "rate can be document), busy $(busy "$GET_IN_B" "$GET_S") of the" \
    "get's time; sampled every 0.1 s, blocks came from $IN_FIRST s to" \
    "$IN_LAST s at $IN_MBPS MB/s of line bytes ($(fmt2 "$(calc \
    "m * 1e6 / r" -v m="$IN_MBPS" -v r="$RATE")") of the rate; best 1 s" \
    "$IN_BEST). Its out-line: $GET_OUT_B bytes; after the get it relayed" \
    "$NEW_RELAYED paths of other nodes"
echo "# get: all lines $(x "$GET_LINE_B") x the document, $GET_DROPS tbf" \
    "drops; those over 10 % of it (x document, busy share):" \
    "$(awk -v n="$SIZE" -v r="$RATE" -v s="$GET_S" '$2 > n / 10 {
    printf "%s %.2f %.2f; ", $1, $2 / n, $2 / (r * s) }' "$TMP/lget")the" \
    "nodes used $GET_CPU s of CPU in $(fmt2 "$GET_S") s (most:$GET_CPU_TOP)"
echo "# node$NEW: linked with a ready 3-hop path $(fmt1 "$NEW_READY") s" \
    "after it started (relays_known $NEW_RELAYS); the whole case" \
    "$(fmt1 "$(calc "b - a" -v a="$T0" -v b="$(now)")") s, $DISK_MB MiB of" \
    "temporary files at the end, load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at its end"
echo "# --- network in namespaces: targets (reported, not enforced) ---"
printf '%-44s %7.1f  %s\n' \
    "netns get 3 hops >= $TARGET_GET_SHARE x line rate ($(fmt2 "$(calc \
    "t * l" -v t="$TARGET_GET_SHARE" -v l="$LINE_MBPS")") MB/s)" \
    "$GET_MBPS" "$(verdict "$GET_SHARE" "$TARGET_GET_SHARE")"
echo "netns put 3 hops: $(fmt1 "$PUT_MBPS") MB/s" \
    "($(fmt2 "$(calc "m / l" -v m="$PUT_MBPS" -v l="$LINE_MBPS")") of the" \
    "line rate; no target); netns get 3 hops: $(fmt1 "$GET_MBPS") MB/s" \
    "($(fmt2 "$GET_SHARE") of the line rate)"
exit 0
