#!/bin/bash
# paths.sh - onion paths across a 10-node testnet (docs/onion.md, "Tests
# this design must pass"): put and get with 3 hops; status shows a node's
# own paths (3 relays, never itself) and only a count of the paths it
# relays; a relay killed mid-get costs a rebuild, not the get; a capture
# of the links' loopback traffic holds no document plaintext and no part
# of the URI; --hops 0 needs --no-anonymity. The gets that must cross the
# network run at fresh nodes started after the put (see fresh()). Set
# PATHS_KEEP=DIR to keep the logs, status answers and captures.
. "$(dirname "$0")/lib.sh"

N=10
TN=$TMP/tn

# If PATHS_KEEP names a directory, the testnet's logs and this test's
# small files are copied there on exit (for a report), before cleanup.
keep_logs() {
	local i
	[ -n "${PATHS_KEEP:-}" ] && mkdir -p "$PATHS_KEEP" || return 0
	for i in $(seq $N); do
		[ -f "$TN/node$i/log" ] && cp "$TN/node$i/log" "$PATHS_KEEP/node$i.log"
	done
	cp "$TMP"/*.log "$TMP"/*.out "$TMP"/*.err "$TMP"/*.json "$TMP"/err* \
	    "$TMP"/uri* "$TMP"/*.pcap "$PATHS_KEEP/" 2>/dev/null
	return 0
}
trap 'keep_logs; cleanup' EXIT

# D I: node I's datadir; D NAME: a node outside the testnet (fresh).
D() { case $1 in [0-9]*) echo "$TN/node$1" ;; *) echo "$TMP/$1" ;; esac; }

# status I|NAME: the node's status --json into $TMP/stI.json; non-zero
# if it does not answer.
status() {
	timeout 10 "$UMBRA" status --datadir "$(D "$1")" --json \
	    > "$TMP/st$1.json" 2>/dev/null
}

# ms: milliseconds since the epoch.
ms() { echo $(($(date +%s%N) / 1000000)); }

# alive I: node I's process is still running.
alive() { kill -0 "${NPID[$1]}" 2>/dev/null; }

# node_of IDENTITY: the number of the testnet node with that identity
# (from DIR/nodeI/address, PUBKEY after '#'), or nothing.
node_of() {
	local i
	for i in $(seq $N); do
		[ "${ID[i]}" = "$1" ] && { echo "$i"; return 0; }
	done
	return 1
}

# paths_ok I: node I's status ($TMP/stI.json) lists its own paths: each
# with hops = its number of relays, distinct relays, never itself, state
# building or ready; and at least one ready path of 3 hops. Prints what
# is wrong.
paths_ok() {
	python3 - "$TMP/st$1.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
me = d["identity"]
paths = d.get("paths")
if not isinstance(paths, list) or not paths:
    print("# no paths: %r" % (paths,))
    sys.exit(1)
bad = []
for p in paths:
    r = p.get("relays")
    if not isinstance(r, list) or len(r) != p.get("hops") or \
       len(set(r)) != len(r) or me in r or \
       p.get("state") not in ("building", "ready") or \
       not isinstance(p.get("age"), (int, float)) or p["age"] < 0 or \
       not isinstance(p.get("streams"), int) or \
       not all(isinstance(x, str) and re.fullmatch(r"[A-Za-z0-9_-]{43}", x)
               for x in r):
        bad.append(p)
if bad:
    print("# malformed path entries: %s" % json.dumps(bad)[:600])
    sys.exit(1)
if not any(p["hops"] == 3 and p["state"] == "ready" for p in paths):
    print("# no ready 3-hop path: %s" % json.dumps(paths)[:600])
    sys.exit(1)
PY
}

# wait_paths SECONDS I...: waits until paths_ok holds for every node I.
wait_paths() {
	local secs=$1 t0=$SECONDS i short
	shift
	while :; do
		short=""
		for i in "$@"; do
			status "$i" && paths_ok "$i" > "$TMP/why$i" || short="$short $i"
		done
		[ -z "$short" ] && return 0
		if [ $((SECONDS - t0)) -ge "$secs" ]; then
			for i in $short; do
				diag "node $i: $(tr '\n' ' ' < "$TMP/why$i")"
			done
			return 1
		fi
		sleep 0.5
	done
}

# relays_of I: the relays of node I's ready paths ($TMP/stI.json), one
# per line as "POSITION IDENTITY STREAMS" (POSITION 0 = first hop), the
# middle relays of paths carrying streams first.
relays_of() {
	python3 - "$TMP/st$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for p in d.get("paths") or []:
    if p.get("state") != "ready":
        continue
    r = p["relays"]
    for k, x in enumerate(r):
        middle = 0 < k < len(r) - 1
        out.append((p.get("streams", 0) > 0, middle, k, x, p.get("streams", 0)))
out.sort(key=lambda t: (not t[0], not t[1], t[2]))
for t in out:
    print(t[2], t[3], t[4])
PY
}

# fresh NAME: starts a node outside the testnet in $TMP/NAME, seeded with
# a live testnet node, and waits (60 s) for it to have a ready 3-hop path.
# Sets FPID. Why: a put leaves nearly every block on nearly every node
# of a 10-node testnet (inserts are cached on their way), so a get at a
# testnet node is served from its own store; a node started after the
# put holds none of the document and must fetch it all over its paths.
# The fresh nodes run to the end: one that stopped would stay in every
# relay cache, and a path through it takes 10 s to fail.
fresh() {
	local i port seed=""
	for i in 9 8 7 6 5 4 10 1; do
		alive "$i" && { seed=$i; break; }
	done
	mkdir -p "$(D "$1")"
	FPID=""
	start_node "$(D "$1")" --peer "$(cat "$(D "$seed")/address")" ||
	    return 1
	FPID=$NODE_PID
	port=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\)#.*/\1/p' "$(D "$1")/address")
	[ -n "$port" ] && FPORT+=("$port")
	wait_paths 60 "$1"
}
FPORT=()

# cap_start FILE FILTER: tcpdump on loopback into FILE; sets CAPPID, or
# returns 1 if tcpdump is missing or may not capture.
cap_start() {
	local zopt=""
	CAPPID=""
	[ -n "$TCPDUMP" ] || return 1
	[ "$(id -u)" -eq 0 ] && zopt="-Z root"	# write into $TMP (0700)
	# shellcheck disable=SC2086
	"$TCPDUMP" -i lo -U -s 0 -B 8192 $zopt -w "$1" "$2" 2> "$1.err" &
	CAPPID=$!
	PIDS="$PIDS $CAPPID"
	wait_line "$1.err" 'listening on' "$CAPPID" 10 && return 0
	diag "tcpdump: $(head -2 "$1.err")"
	stop_pid "$CAPPID"
	CAPPID=""
	return 1
}

# cap_stop PID FILE: SIGINT, so that tcpdump flushes FILE; at most 10 s.
cap_stop() {
	kill -INT "$1"
	wait_gone "$1" 10 || { kill -KILL "$1"; wait "$1"; }
	diag "tcpdump $(basename "$2"): $(grep captured "$2.err")"
}
TCPDUMP=$(command -v tcpdump || { [ -x /usr/sbin/tcpdump ] && echo /usr/sbin/tcpdump; })

# ---- 1. ten nodes ----
T0=$SECONDS
"$UMBRA" testnet --nodes $N --dir "$TN" > "$TMP/tn.out" 2> "$TMP/tn.err" &
TNPID=$!
PIDS="$PIDS $TNPID"
t0=$SECONDS
wait_line "$TMP/tn.out" "^testnet ready: $N nodes" "$TNPID" 90
ok $? "testnet --nodes $N: ready within 90 s ($((SECONDS - t0)) s)"
declare -a NPID ID
good=0
for i in $(seq $N); do
	NPID[i]=$(sed -n "s/^node $i: pid \([0-9]*\) .*/\1/p" "$TMP/tn.out")
	[ -n "${NPID[i]}" ] && PIDS="$PIDS ${NPID[i]}"	# leftovers, on any exit
	ID[i]=$(sed 's/.*#//' "$(D "$i")/address" 2>/dev/null)
	LPORT[i]=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\)#.*/\1/p' "$(D "$i")/address" 2>/dev/null)
	[ -n "${NPID[i]}" ] && [ -n "${ID[i]}" ] && [ -n "${LPORT[i]}" ] &&
	    status "$i" && python3 - "$TMP/st$i.json" "${ID[i]}" <<'PY' || good=1
import json, sys
d = json.load(open(sys.argv[1]))
if d["identity"] != sys.argv[2] or d["relays_known"] < 3 or not d["peers"]:
    print("# identity %s, relays_known %s, %d peers" %
          (d["identity"], d["relays_known"], len(d["peers"])))
    sys.exit(1)
PY
done
ok $good "each node: pid, address, status with its identity, peers and >= 3 relays known"

# ---- --hops 0 needs --no-anonymity ----
head -c 100000 /dev/urandom > "$TMP/small"
"$UMBRA" put --datadir "$(D 1)" --hops 0 "$TMP/small" > "$TMP/out" 2> "$TMP/err"
rc=$?
[ $rc -eq 2 ] && [ ! -s "$TMP/out" ] && [ -s "$TMP/err" ]
ok $? "put --hops 0 without --no-anonymity: refused, exit 2 (exit $rc: $(head -1 "$TMP/err"))"
"$UMBRA" get --datadir "$(D 1)" --hops 0 \
    'CHK@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,AQAAAAAAAAAAAAAAAAAAAAAAAA' \
    -o "$TMP/none" > /dev/null 2> "$TMP/err"
rc=$?
[ $rc -eq 2 ] && [ ! -e "$TMP/none" ]
ok $? "get --hops 0 without --no-anonymity: refused, exit 2 (exit $rc: $(head -1 "$TMP/err"))"
timeout 60 "$UMBRA" put --datadir "$(D 1)" --hops 0 --no-anonymity "$TMP/small" \
    > "$TMP/out" 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && grep -q '^CHK@' "$TMP/out" && [ "$(lines "$TMP/out")" = 1 ] &&
    [ -s "$TMP/err" ]
ok $? "put --hops 0 --no-anonymity: exit 0, the URI, a warning on stderr (exit $rc)"
diag "warning: $(head -1 "$TMP/err")"

# ---- 2. put and get over 3-hop paths ----
head -c $((4 * 1024 * 1024)) /dev/urandom > "$TMP/doc4"
t0=$SECONDS
timeout 120 "$UMBRA" put --datadir "$(D 1)" "$TMP/doc4" > "$TMP/uri4" 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && [ "$(lines "$TMP/uri4")" = 1 ] && grep -q '^CHK@' "$TMP/uri4"
ok $? "put 4 MiB at node 1 (default 3 hops): one CHK@ line within 120 s (exit $rc, $((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "put: $(head -2 "$TMP/err")"
# Node N has most blocks in its store already (inserts are cached on
# their way); the get at a fresh node below is the one that must cross
# the network.
t0=$SECONDS
timeout 120 "$UMBRA" get --datadir "$(D $N)" --hops 3 "$(cat "$TMP/uri4")" \
    -o "$TMP/got4" 2> "$TMP/err" && cmp -s "$TMP/doc4" "$TMP/got4"
ok $? "get at node $N with --hops 3: the same bytes ($((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"

# ---- 3. what status shows ----
wait_paths 20 1 $N
ok $? "nodes 1 and $N: ready 3-hop paths of 3 distinct relays, never themselves"
good=0
for i in $(seq $N); do
	status "$i" || { good=1; diag "node $i does not answer status"; }
done
python3 - "$TMP" $N <<'PY' || good=1
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
counts = []
for i in range(1, n + 1):
    try:
        d = json.load(open("%s/st%d.json" % (tmp, i)))
    except Exception:
        counts.append("-")
        continue
    rp = d.get("relayed_paths")
    if not isinstance(rp, int) or isinstance(rp, bool):
        print("# node %d: relayed_paths is %r, not a count" % (i, rp))
        sys.exit(1)
    counts.append(rp)
print("# relayed_paths of nodes 1..%d: %s" % (n, " ".join(map(str, counts))))
sys.exit(0 if any(isinstance(c, int) and c > 0 for c in counts) else 1)
PY
[ $good -eq 0 ]
ok $? "relayed_paths is a count on every node, and some node relays a path"

# The relays of node N's paths know node N at most as a peer (the first
# hop's link) or as a relay of a path of their own; no other field of
# their status names it (a relay does not know, or show, whose path it
# carries).
status $N
good=0
nrel=0
for r in $(relays_of $N | awk '{ print $2 }' | sort -u); do
	j=$(node_of "$r") || { good=1; diag "relay $r is no testnet node"; continue; }
	nrel=$((nrel + 1))
	status "$j" && python3 - "$TMP/st$j.json" "${ID[N]}" "$j" <<'PY' || good=1
import json, sys
d, origin, j = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
found = []
def walk(x, where):
    if isinstance(x, dict):
        for k, v in x.items():
            walk(v, where + [k])
    elif isinstance(x, list):
        for k, v in enumerate(x):
            walk(v, where + [k])
    elif isinstance(x, str) and origin in x:
        found.append(where)
walk(d, [])
allowed = lambda w: (len(w) >= 2 and w[0] == "peers") or \
    (len(w) == 4 and w[0] == "paths" and w[2] == "relays")
bad = [w for w in found if not allowed(w)]
if bad:
    print("# node %s (a relay of the origin's path) shows the origin at %s" % (j, bad))
    sys.exit(1)
own = [w for w in found if w[0] == "paths"]
if own:
    print("# node %s has the origin as a relay of its own path(s) %s" %
          (j, sorted({w[1] for w in own})))
PY
done
[ $nrel -gt 0 ] && [ $good -eq 0 ]
ok $? "node $N's $nrel relays do not show node $N's identity but as a peer or a relay of their own paths"

# ---- the same document, fetched by a node that has none of it ----
t0=$SECONDS
fresh f1
ok $? "a fresh node seeded with the testnet has a ready 3-hop path within 60 s ($((SECONDS - t0)) s)"
F1=$FPID
t0=$SECONDS
timeout 120 "$UMBRA" get --datadir "$(D f1)" --hops 3 "$(cat "$TMP/uri4")" \
    -o "$TMP/got4f" 2> "$TMP/err" && cmp -s "$TMP/doc4" "$TMP/got4f"
ok $? "get of 4 MiB at the fresh node with --hops 3, all over the network: the same bytes ($((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"
rm -f "$TMP/doc4" "$TMP/got4" "$TMP/got4f"

# ---- 4. a relay killed in the middle of a get ----
# 48 MiB: long enough (about 1 s here) for a relay to die in the middle
# of the get. A sanitizer build inserts 48 MiB over 3 hops in minutes,
# not seconds, and gets ten times slower: 16 MiB is enough there.
BIG=48
if grep -qa '__asan_init' "$UMBRA"; then
	BIG=16
	diag "a sanitizer build: $BIG MiB instead of 48"
fi
head -c $((BIG * 1024 * 1024)) /dev/urandom > "$TMP/docbig"
t0=$SECONDS
timeout 150 "$UMBRA" put --datadir "$(D 2)" --hops 3 "$TMP/docbig" > "$TMP/uribig" \
    2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && grep -q '^CHK@' "$TMP/uribig"
ok $? "put $BIG MiB at node 2 with --hops 3 (exit $rc, $((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "put: $(head -2 "$TMP/err")"
# The getter: a node started now, which has none of the document (node
# 9 of the testnet would have nearly all of it in its store already).
t0=$SECONDS
fresh f2
ok $? "a second fresh node has a ready 3-hop path within 60 s ($((SECONDS - t0)) s)"
F2=$FPID
# The relay to kill: one of the getter's ready 3-hop paths (a get spreads
# its streams over them), a middle one if there is a choice; not node 2
# (it stores the document) and, if there is a choice, not node 3 (used
# below). Picked before the get: while a get runs, status is slow
# to answer on a loaded machine.
VICTIM=""
VPOS=""
if status f2; then
	relays_of f2 > "$TMP/relf2"
	for avoid in "2 3" "2"; do
		while read -r pos r _; do
			j=$(node_of "$r") || continue
			case " $avoid " in *" $j "*) continue ;; esac
			alive "$j" || continue
			VICTIM=$j
			VPOS=$pos
			break
		done < "$TMP/relf2"
		[ -n "$VICTIM" ] && break
	done
fi
[ -n "$VICTIM" ]
ok $? "the getter's paths have a testnet relay to kill${VICTIM:+ (node $VICTIM, hop $((VPOS + 1)))}"
rm -f "$TMP/gotbig" "$TMP"/gotbig.umbra-*
fails() { grep -c 'paths: a path of 3 failed' "$(D f2).log"; }
F0=$(fails)
timeout 180 "$UMBRA" get --datadir "$(D f2)" --hops 3 "$(cat "$TMP/uribig")" \
    -o "$TMP/gotbig" 2> "$TMP/errbig" &
GETPID=$!
GET_MS=$(ms)
PIDS="$PIDS $GETPID"
if [ -n "$VICTIM" ]; then
	# Kill once the get has run 1 s or written 1 MiB (into the file
	# beside -o FILE that it renames at the end), whichever comes first.
	got=0
	while [ $(($(ms) - GET_MS)) -lt 1000 ] && [ "$got" -lt 1048576 ] &&
	    kill -0 "$GETPID" 2>/dev/null; do
		sleep 0.02
		got=$(stat -c %s "$TMP"/gotbig.umbra-* 2>/dev/null | head -1)
		got=${got:-0}
	done
	running=1
	kill -0 "$GETPID" 2>/dev/null && running=0
	kill -KILL "${NPID[VICTIM]}"
	diag "killed node $VICTIM (pid ${NPID[VICTIM]}) $(($(ms) - GET_MS)) ms into the get, $got bytes written"
	ok $running "the get was still running when the relay was killed"
	wait_line "$TMP/tn.err" "node $VICTIM (pid ${NPID[VICTIM]}) was killed by signal 9" \
	    "$TNPID" 10
	ok $? "the testnet reports node $VICTIM killed and keeps running"
fi
wait_gone "$GETPID" 185
rc=$RC
[ "$rc" -eq 0 ] && cmp -s "$TMP/docbig" "$TMP/gotbig"
ok $? "get of $BIG MiB at the fresh node completes, the same bytes (exit $rc, $(($(ms) - GET_MS)) ms)"
[ -s "$TMP/errbig" ] && diag "get: $(head -3 "$TMP/errbig")"
[ -n "$VICTIM" ] &&
    diag "the getter logged $(($(fails) - F0)) path failures during the get; the last: $(grep 'paths: a path of 3 failed' "$(D f2).log" | tail -1 | cut -d' ' -f4-)"
rm -f "$TMP/docbig" "$TMP/gotbig"

# ---- 5. what a capture of the links shows ----
# Put at node P, get at a fresh node G (so the get crosses the network).
# Capture A: the link ports of the testnet and of the fresh nodes f1 and
# f2, from before the put; capture B: the getter's link port once it is
# up. API ports are left out: the HTTP
# API carries the URI between client and node, as it should.
P=3
for alt in 4 5 6 7; do
	alive $P && break
	P=$alt
done
python3 - "$TMP/doc256" <<'PY'
import os, sys
# 256 KiB: 4 KiB of numbered marker lines, then 4 KiB of random bytes, ...
out, n = bytearray(), 0
while len(out) < 256 * 1024:
    block = bytearray()
    while len(block) < 4096:
        block += b"UMBRA-PLAINTEXT-MARKER-%d\n" % n
        n += 1
    out += block[:4096] + os.urandom(4096)
open(sys.argv[1], "wb").write(out[:256 * 1024])
PY
cp "$TMP/doc256" "$TMP/umbra-capture-secret-name.txt"
filter=""
for port in "${LPORT[@]}" "${FPORT[@]}"; do	# the testnet and f1, f2
	filter="$filter${filter:+ or }port $port"
done
CAPA=""
CAPB=""
cap_start "$TMP/a.pcap" "tcp and ($filter)" && CAPA=$CAPPID
t0=$SECONDS
timeout 120 "$UMBRA" put --datadir "$(D $P)" --hops 3 \
    "$TMP/umbra-capture-secret-name.txt" > "$TMP/uri256" 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && grep -q '^CHK@.*/umbra-capture-secret-name.txt$' "$TMP/uri256"
ok $? "put 256 KiB of marked text at node $P with --hops 3 (exit $rc, $((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "put: $(head -2 "$TMP/err")"
t0=$SECONDS
fresh f3
ok $? "a third fresh node has a ready 3-hop path within 60 s ($((SECONDS - t0)) s)"
F3=$FPID
port=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\)#.*/\1/p' "$(D f3)/address" 2>/dev/null)
if [ -n "$CAPA" ]; then
	cap_start "$TMP/b.pcap" "tcp and port ${port:-1}" && CAPB=$CAPPID
fi
t0=$SECONDS
timeout 120 "$UMBRA" get --datadir "$(D f3)" --hops 3 "$(cat "$TMP/uri256")" \
    -o "$TMP/got256" 2> "$TMP/err" && cmp -s "$TMP/doc256" "$TMP/got256"
ok $? "get at the fresh node with --hops 3: the same bytes ($((SECONDS - t0)) s)"
[ -s "$TMP/err" ] && diag "get: $(head -2 "$TMP/err")"
if [ -z "$CAPA" ] || [ -z "$CAPB" ]; then
	[ -n "$CAPA" ] && cap_stop "$CAPA" "$TMP/a.pcap"
	[ -n "$CAPB" ] && cap_stop "$CAPB" "$TMP/b.pcap"
	skip "a capture of the links holds no plaintext and no part of the URI" \
	    "tcpdump unavailable"
else
	cap_stop "$CAPA" "$TMP/a.pcap"
	cap_stop "$CAPB" "$TMP/b.pcap"
	python3 - "$TMP/a.pcap" "$TMP/b.pcap" "$TMP/doc256" "$(cat "$TMP/uri256")" <<'PY'
import base64, re, sys
cap = open(sys.argv[1], "rb").read() + b"\0" * 64 + open(sys.argv[2], "rb").read()
doc = open(sys.argv[3], "rb").read()
uri = sys.argv[4]
bad = []
if len(cap) <= 256 * 1024:
    bad.append("only %d bytes captured" % len(cap))
needles = [(b"UMBRA-PLAINTEXT-MARKER", "the marker"),
           (b"UMBRA-PLAINTEXT", "part of the marker"),
           (uri.encode(), "the URI")]
# Every piece of the URI of 8 characters or more, as text and, for the
# base64url key fields, as the bytes they encode.
for piece in re.split(r"[@,/;?#&=]", uri):
    if len(piece) < 8:
        continue
    needles.append((piece.encode(), "URI piece %s" % piece))
    if re.fullmatch(r"[A-Za-z0-9_-]+", piece) and len(piece) % 4 != 1:
        raw = base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4))
        if len(raw) >= 8:
            needles.append((raw, "the %d bytes URI piece %s encodes" %
                            (len(raw), piece)))
for needle, what in needles:
    if needle in cap:
        bad.append(what)
# Any 32 bytes of the document, at any offset: each such occurrence holds
# a 16-byte window of the capture that starts at a multiple of 16.
win = {doc[i:i + 16] for i in range(len(doc) - 15)}
hits = 0
for q in range(0, len(cap) - 15, 16):
    w = cap[q:q + 16]
    if w not in win:
        continue
    for o in [m.start() for m in re.finditer(re.escape(w), doc)][:64]:
        # extend the match both ways
        a = 0
        while a < o and a < q and doc[o - a - 1] == cap[q - a - 1]:
            a += 1
        b = 16
        while o + b < len(doc) and q + b < len(cap) and doc[o + b] == cap[q + b]:
            b += 1
        if a + b >= 32:
            hits += 1
            if hits <= 3:
                bad.append("%d document bytes from offset %d at capture offset %d"
                           % (a + b, o - a, q - a))
            break
print("# %d bytes captured, %d needles, %d document matches" %
      (len(cap), len(needles), hits))
for b in bad:
    print("# found: %s" % b)
sys.exit(1 if bad else 0)
PY
	ok $? "a capture of the links (not the API) holds no plaintext, no 32 document bytes, no part of the URI"
fi

# ---- 6. stop ----
good=0
for p in ${F1:-} ${F2:-} ${F3:-}; do
	stop_node "$p" || good=1
done
ok $good "the fresh nodes stop cleanly"
kill -INT "$TNPID"
wait_gone "$TNPID" 20
rc=$RC
[ "$rc" -eq 0 ] && grep -q '^testnet stopped$' "$TMP/tn.out"
ok $? "SIGINT: testnet exits 0 within 20 s (status $rc)"
left=""
for i in $(seq $N); do
	[ -n "${NPID[i]}" ] && kill -0 "${NPID[i]}" 2>/dev/null && left="$left ${NPID[i]}"
done
[ -z "$left" ]; ok $? "every node is gone${left:+ (left:$left)}"
for p in $left; do
	kill -KILL "$p" 2>/dev/null
done
grep -v "node ${VICTIM:-0} (pid" "$TMP/tn.err" > "$TMP/tn.err2"
[ ! -s "$TMP/tn.err2" ]; ok $? "nothing else on the testnet's stderr"
[ -s "$TMP/tn.err2" ] && diag "stderr: $(head -3 "$TMP/tn.err2")"
for i in $(seq $N); do
	check_node_log "$(D "$i")/log"
done
for f in f1 f2 f3; do
	[ -f "$(D $f).log" ] && check_node_log "$(D $f).log"
done
diag "the whole test took $((SECONDS - T0)) s"

done_testing
