#!/bin/bash
# soak.sh BUILDDIR - `make soak`: a 10-node `umbra testnet` on 127.0.0.1
# under steady put/get load for SOAK_SECONDS (default 1800), every put and
# get over the default 3-hop onion paths. It reports requests done and
# served, failures by kind, and each node's RSS at the start, every
# SOAK_INTERVAL s (a CSV) and at the end. Not part of `make check` or CI.
# See docs/soak.md for what each line means.
#
# Load: SOAK_CLIENTS loops (default 4), loop k bound to one node, each
# putting random documents of 4 KiB to SOAK_MAX_SIZE (log-uniform, one in
# four base64 text) at its node, then getting an earlier URI (from any
# loop, mostly a recent one) at another node picked at random, checked
# byte for byte; then SOAK_PAUSE s (default 1) of rest. Every command has
# a timeout; each loop stops at the deadline or after SOAK_SECONDS
# rounds.
#
# Exits non-zero if a node died or did not stop cleanly, a get returned
# other bytes, more than SOAK_MAX_FAIL_PCT % (default 1) of the puts and
# gets failed, or a node's RSS passed 256 MiB (SPEC). RSS growth after
# the warm-up above 20 % is flagged, not failed (when it is also 8 MiB
# or more of VmRSS, or 4 MiB or more of RssAnon).
#
# Starts its processes in a temp dir under ${TMPDIR:-/tmp} and stops them
# by PID, on Ctrl-C too (the first one ends the load early and still
# reports). SOAK_KEEP=1 keeps the report, the CSV, the operation log and
# the node logs there (the stores are removed) and prints the path.

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: soak.sh BUILDDIR" >&2
	exit 2
fi
BUILDDIR=$(cd "$1" && pwd)
UMBRA=$BUILDDIR/umbra

SECS=${SOAK_SECONDS:-1800}	# the load's length
NODES=10
CLIENTS=${SOAK_CLIENTS:-4}	# client loops
INTERVAL=${SOAK_INTERVAL:-30}	# s between two RSS samples
PAUSE=${SOAK_PAUSE:-1}		# s of rest after each put+get round
MIN_SIZE=4096
MAX_SIZE=${SOAK_MAX_SIZE:-4194304}
MAX_FAIL_PCT=${SOAK_MAX_FAIL_PCT:-1}
PUT_TIMEOUT=240			# s; a put answers within 110 s (SPEC, protocol.md)
GET_TIMEOUT=240			# s; "not found" comes within 120 s (SPEC)
STATUS_TIMEOUT=10
RECENT=100			# gets mostly pick among the last RECENT URIs
RSS_LIMIT_MIB=256		# SPEC: default settings stay under 256 MiB
GROWTH_PCT=20			# RSS growth after the warm-up flagged above this
TESTNET_WAIT=200		# s; testnet: 10 s a node for its files, 60 s for links

# number NAME VALUE: exits 2 unless VALUE is a number (digits, one dot).
number() {
	case $2 in
	'' | *[!0-9.]* | .* | *.*.*)
		echo "soak.sh: $1='$2' is not a number" >&2
		exit 2 ;;
	esac
}
number SOAK_SECONDS "$SECS"
number SOAK_CLIENTS "$CLIENTS"
number SOAK_INTERVAL "$INTERVAL"
number SOAK_PAUSE "$PAUSE"
number SOAK_MAX_SIZE "$MAX_SIZE"
number SOAK_MAX_FAIL_PCT "$MAX_FAIL_PCT"
case $SECS$CLIENTS$INTERVAL$MAX_SIZE in
*.*) echo "soak.sh: SOAK_SECONDS, SOAK_CLIENTS, SOAK_INTERVAL and" \
	"SOAK_MAX_SIZE take whole numbers" >&2; exit 2 ;;
esac
if [ "$SECS" -lt 10 ] || [ "$CLIENTS" -lt 1 ] || [ "$CLIENTS" -gt "$NODES" ] ||
    [ "$INTERVAL" -lt 1 ] || [ "$MAX_SIZE" -lt "$MIN_SIZE" ]; then
	echo "soak.sh: need SOAK_SECONDS >= 10, 1 <= SOAK_CLIENTS <= $NODES," \
	    "SOAK_INTERVAL >= 1, SOAK_MAX_SIZE >= $MIN_SIZE" >&2
	exit 2
fi
# The samples from the warm-up on are the base of the growth check.
WARMUP=${SOAK_WARMUP:-$((SECS / 6))}
case $WARMUP in '' | *[!0-9]*) echo "soak.sh: SOAK_WARMUP is not a" \
	"whole number" >&2; exit 2 ;; esac
SEED=${SOAK_SEED:-$$}

if [ ! -x "$UMBRA" ]; then
	echo "soak.sh: $UMBRA is missing: run make first" >&2
	exit 2
fi
for c in python3 timeout cmp shuf sha256sum; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "soak.sh: needs $c" >&2
		exit 2
	}
done

# The interpreter itself: a version manager's shim costs up to a second
# a call on a loaded machine.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$PYTHON" ] ||
	PYTHON=python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/umbra-soak.XXXXXX") || exit 1
TN=$TMP/tn
TESTNET_PID=""
LOOP_PIDS=()
NPID=()			# NPID[i]: node i's PID (the testnet's child)
NDIR=()			# NDIR[i]: node i's datadir
INTERRUPTED=0
REPORTED=0

. "$(dirname "$0")/../stop_pid.sh"

now() { date +%s.%N; }
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }' </dev/null; }

# keep: with SOAK_KEEP, everything but the stores stays in $TMP.
keep() {
	local i
	for i in $(seq "$NODES"); do
		[ -f "$TN/node$i/log" ] && mv "$TN/node$i/log" "$TMP/node$i.log"
	done
	rm -rf "$TN" "$TMP"/c[0-9]* "$TMP"/run[0-9]*.log "$TMP/st" "$TMP"/*.py
	echo "soak.sh: kept in $TMP: report.txt, rss.csv, ops.tsv," \
	    "nodeI.log (the node logs), first/ and end/ (status answers)," \
	    "testnet.out/err"
}

# stop_loops: TERM to the client loops (each passes it to its command).
stop_loops() {
	local p
	for p in ${LOOP_PIDS[@]+"${LOOP_PIDS[@]}"}; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in ${LOOP_PIDS[@]+"${LOOP_PIDS[@]}"}; do
		stop_pid "$p"
	done
	LOOP_PIDS=()
}


cleanup() {
	trap '' INT TERM HUP
	stop_loops
	stop_pid "$TESTNET_PID"
	wait_others_gone 15 ${NPID[@]+"${NPID[@]}"}
	if [ -n "${SOAK_KEEP:-}" ] && [ "${SOAK_KEEP}" != 0 ] &&
	    [ "$REPORTED" = 1 ]; then
		keep
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
# The first Ctrl-C ends the load early and still reports; a second one
# ends everything at once.
on_signal() {
	if [ "$INTERRUPTED" = 1 ] || [ "$REPORTED" = 1 ] ||
	    [ ${#LOOP_PIDS[@]} -eq 0 ]; then
		exit 1
	fi
	INTERRUPTED=1
	echo "# soak.sh: interrupted: ending the load now (again to quit)"
	stop_loops
}
trap on_signal INT TERM HUP

die() {
	echo "soak.sh: $*" >&2
	exit 1
}

# ---- the documents: made again from (id, size, kind) to check a get ----

# gen ID SIZE KIND: SIZE bytes for document ID on stdout, the same each
# time: a keystream (AES-128-CTR keyed by a hash of ID; SHAKE-256 without
# openssl), for KIND text in base64 lines (zstd takes a quarter off).
cat >"$TMP/gen.py" <<'PY'
import base64, hashlib, sys
doc, size, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
h = hashlib.shake_256(("umbra-soak:" + doc).encode())
if kind == "text":
    data = base64.encodebytes(h.digest(size * 3 // 4 + 64))[:size]
else:
    data = h.digest(size)
sys.stdout.buffer.write(data)
PY
if command -v openssl >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1
then
	IV=00000000000000000000000000000000
	gen() {
		local key
		key=$(printf 'umbra-soak:%s' "$1" | sha256sum | cut -c1-32)
		# openssl dies of SIGPIPE when head has enough.
		if [ "$3" = text ]; then
			openssl enc -aes-128-ctr -K "$key" -iv "$IV" -in /dev/zero \
			    2>/dev/null | base64 -w 76 | head -c "$2"
		else
			openssl enc -aes-128-ctr -K "$key" -iv "$IV" -in /dev/zero \
			    2>/dev/null | head -c "$2"
		fi
	}
else
	gen() { "$PYTHON" "$TMP/gen.py" "$@"; }
fi

# ---- the report, written first so that a mistake in it shows at once ----

cat >"$TMP/report.py" <<'PY'
# report.py TMP: the soak's report on stdout; exit 1 if a check failed.
import collections, csv, json, os, re, statistics, sys

tmp = sys.argv[1]
env = dict(a.split("=", 1) for a in sys.argv[2:])
N = int(env["NODES"])
fails = []
flags = []

def mib(k):
    return "%.1f" % (int(k) / 1024) if k not in ("", None) else "-"

# Operations.
ops = [l.rstrip("\n").split("\t") for l in open(os.path.join(tmp, "ops.tsv"))]
puts = [o for o in ops if o[2] == "put"]
gets = [o for o in ops if o[2] == "get"]
kinds = collections.Counter(o[3] for o in ops)
put_ok = [o for o in puts if o[3] in ("ok", "pending")]
get_ok = [o for o in gets if o[3] == "ok"]
put_bytes = sum(int(o[5]) for o in put_ok)
get_bytes = sum(int(o[5]) for o in get_ok)
n_fail = sum(kinds[k] for k in ("put_error", "put_timeout", "get_notfound",
                                "get_error", "get_timeout", "mismatch"))
dur = float(env["LOAD_T1"]) - float(env["LOAD_T0"])

def lat(lst):
    s = sorted(float(o[6]) for o in lst)
    if not s:
        return "-"
    p95 = s[min(len(s) - 1, int(0.95 * len(s)))]
    return "median %.2f s, p95 %.2f s, max %.2f s" % (
        statistics.median(s), p95, s[-1])

def rate(lst):
    b = sum(int(o[5]) for o in lst)
    t = sum(float(o[6]) for o in lst)
    return "%.2f MB/s" % (b / t / 1e6) if t > 0 else "-"

print("# --- load: %.0f s (asked %s s%s), %s client loops, 3-hop paths ---"
      % (dur, env["SECS"], ", interrupted" if env["INTERRUPTED"] == "1"
         else "", env["CLIENTS"]))
print("puts: %d done, %d ok, %d answered pending, %d failed (%d errors, "
      "%d timeouts); %.1f MiB put (%d random, %d text)" % (
          len(puts), kinds["ok"] - len(get_ok), kinds["pending"],
          kinds["put_error"] + kinds["put_timeout"], kinds["put_error"],
          kinds["put_timeout"], put_bytes / 1048576,
          sum(1 for o in puts if o[8].startswith("random")),
          sum(1 for o in puts if o[8].startswith("text"))))
print("gets: %d done, %d ok (cmp), %d not found, %d other errors, "
      "%d timeouts, %d MISMATCHED; %.1f MiB got" % (
          len(gets), len(get_ok), kinds["get_notfound"], kinds["get_error"],
          kinds["get_timeout"], kinds["mismatch"], get_bytes / 1048576))
print("rates: %.2f puts/s, %.2f gets/s, %.2f MB/s moved (puts + gets, "
      "document bytes)" % (len(puts) / dur if dur else 0,
                           len(gets) / dur if dur else 0,
                           (put_bytes + get_bytes) / dur / 1e6 if dur else 0))
busy = sum(float(o[6]) for o in ops)
print("the %s loops spent %.0f %% of the time in puts and gets (the rest: "
      "making and checking documents, the pause)" % (
          env["CLIENTS"], 100 * busy / dur / int(env["CLIENTS"])
          if dur else 0))
print("put time: %s; speed %s" % (lat(put_ok), rate(put_ok)))
print("get time: %s; speed %s" % (lat(get_ok), rate(get_ok)))
total = len(puts) + len(gets)
pct = 100.0 * n_fail / total if total else 100.0
print("failures: %d of %d operations (%.2f %%; limit %s %%)" % (
    n_fail, total, pct, env["MAX_FAIL_PCT"]))
bad = [o for o in ops if o[3] != "ok"]
for o in bad[:40]:
    print("  t=%ds loop %s %s %s at node %s, %s bytes, %s s, exit %s: %s"
          % (int(o[0]) - int(env["START_EPOCH"]), o[1], o[2], o[3], o[4],
             o[5], o[6], o[7], o[8]))
if len(bad) > 40:
    print("  ... and %d more (ops.tsv)" % (len(bad) - 40))
if total == 0 or not put_ok or not get_ok:
    fails.append("no put or no get succeeded")
if kinds["mismatch"]:
    fails.append("%d gets returned other bytes" % kinds["mismatch"])
if pct > float(env["MAX_FAIL_PCT"]):
    fails.append("%.2f %% of operations failed (limit %s %%)"
                 % (pct, env["MAX_FAIL_PCT"]))
if kinds["pending"]:
    flags.append("%d puts answered pending (not acknowledged within the "
                 "node's bound)" % kinds["pending"])

# What the nodes served, from their status counters (end - start).
def load(d, i):
    try:
        return json.load(open(os.path.join(tmp, d, "st%d.json" % i)))
    except (OSError, ValueError):
        return None

def val(doc, path):
    for k in path.split("."):
        if not isinstance(doc, dict) or k not in doc:
            return 0
        doc = doc[k]
    return doc

counters = ["requests.puts", "requests.puts_failed", "requests.gets",
            "requests.gets_found", "requests.gets_not_found",
            "routing.requests_in", "routing.served_from_store",
            "routing.inserts_in", "routing.local_requests",
            "routing.local_found", "routing.local_inserts",
            "routing.local_stored", "routing.cached", "routing.bad_blocks",
            "routing.flood_drops", "store.evictions"]
delta = {}
for i in range(1, N + 1):
    a, b = load("first", i), load("end", i)
    if a is None or b is None:
        delta[i] = None
        continue
    delta[i] = {c: val(b, c) - val(a, c) for c in counters}
    delta[i]["store.blocks"] = val(b, "store.blocks")
    delta[i]["store.bytes_used"] = val(b, "store.bytes_used")
    delta[i]["relayed_paths"] = val(b, "relayed_paths")
    delta[i]["peers"] = len(val(b, "peers") or [])
    delta[i]["pending_inserts"] = val(b, "pending_inserts")
ok_d = [d for d in delta.values() if d]
tot = {c: sum(d[c] for d in ok_d) for c in counters}
print("# --- served by the nodes (status counters, end - start, over %d "
      "nodes) ---" % len(ok_d))
print("API: puts %d (failed %d), gets %d (found %d, not found %d)" % (
    tot["requests.puts"], tot["requests.puts_failed"], tot["requests.gets"],
    tot["requests.gets_found"], tot["requests.gets_not_found"]))
print("routing: requests from peers %d, served from store %d, inserts from "
      "peers %d; routed as own (exits) requests %d (found %d), inserts %d "
      "(stored %d); cached %d; bad blocks %d; flood drops %d; evictions %d"
      % (tot["routing.requests_in"], tot["routing.served_from_store"],
         tot["routing.inserts_in"], tot["routing.local_requests"],
         tot["routing.local_found"], tot["routing.local_inserts"],
         tot["routing.local_stored"], tot["routing.cached"],
         tot["routing.bad_blocks"], tot["routing.flood_drops"],
         tot["store.evictions"]))
print("%-5s %9s %9s %9s %9s %9s %7s %8s %6s %5s %7s" % (
    "node", "req_in", "served", "ins_in", "exit_req", "exit_ins", "api_op",
    "blocks", "MiB", "peers", "relayed"))
for i in range(1, N + 1):
    d = delta[i]
    if d is None:
        print("%-5d (no status at the start or the end)" % i)
        continue
    print("%-5d %9d %9d %9d %9d %9d %7d %8d %6.0f %5d %7d" % (
        i, d["routing.requests_in"], d["routing.served_from_store"],
        d["routing.inserts_in"], d["routing.local_requests"],
        d["routing.local_inserts"], d["requests.puts"] + d["requests.gets"],
        d["store.blocks"], d["store.bytes_used"] / 1048576, d["peers"],
        d["relayed_paths"]))
    if d["pending_inserts"]:
        flags.append("node %d has %d pending inserts at the end"
                     % (i, d["pending_inserts"]))
# A 10-node network caches an insert at most of its nodes (protocol.md:
# HTL 18), so a get finds most blocks in its own node's store; the rest
# the path's exit routes as its own requests.
blocks_got = sum(-(-int(o[5]) // 32768) for o in get_ok)
print("gets over the network: the exits routed %d block requests (found "
      "%d) for the gets' ~%d data blocks; the rest came from the getting "
      "node's own store" % (tot["routing.local_requests"],
                            tot["routing.local_found"], blocks_got))
if tot["routing.bad_blocks"]:
    flags.append("%d bad blocks seen by relays" % tot["routing.bad_blocks"])
if tot["routing.flood_drops"]:
    flags.append("%d flood drops" % tot["routing.flood_drops"])

# RSS.
rows = list(csv.DictReader(open(os.path.join(tmp, "rss.csv"))))
warm = int(env["WARMUP"])
deaths = {}
for l in open(os.path.join(tmp, "deaths")):
    i, pid, t = l.split()
    deaths[int(i)] = (pid, t)
# One sample swings by a third (blocks in flight, LMDB's map pages come
# and go), so the growth compares means of SMOOTH samples: the first ones
# from the warm-up on, and the last ones (the end's included).
SMOOTH = 5
print("# --- RSS, MiB: VmRSS (RssAnon, the node's own memory; the rest is "
      "shared libraries and LMDB's map); a sample every %s s; 'warm-up' "
      "and 'end': means of up to %d samples from the first at >= %d s and "
      "of the last ones; growth between them; MiB/h: the trend from the "
      "warm-up on ---" % (env["INTERVAL"], SMOOTH, warm))
print("%-4s %7s %14s %14s %14s %7s %7s %7s %6s %6s %s" % (
    "node", "pid", "start", "warm-up", "end", "growth", "(anon)", "MiB/h",
    "max", "VmHWM", "alive"))

def slope(pts):
    """Least-squares slope of (s, KiB) points, in MiB per hour."""
    if len(pts) < 3:
        return None
    mx = statistics.mean(p[0] for p in pts)
    my = statistics.mean(p[1] for p in pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx * 3600 / 1024

def avg(lst, f):
    return statistics.mean(int(x[f]) for x in lst)

def pair(kib, anon):
    return "%5.1f (%5.1f)" % (kib / 1024, anon / 1024)

limit = float(env["RSS_LIMIT_MIB"]) * 1024
growth_pct = float(env["GROWTH_PCT"])
for i in range(1, N + 1):
    r = [x for x in rows if int(x["node"]) == i and x["vmrss_kib"]]
    if not r:
        print("%-4d (no sample)" % i)
        fails.append("node %d: no RSS sample" % i)
        continue
    st = r[0]
    en = [x for x in r if x["label"] == "end"]
    en = en[0] if en else r[-1]
    after = [x for x in r if x["label"] != "start" and
             int(x["elapsed_s"]) >= warm] or r
    k = max(1, min(SMOOTH, len(after) // 2))
    w_rss, w_anon = avg(after[:k], "vmrss_kib"), avg(after[:k], "rssanon_kib")
    e_rss, e_anon = avg(after[-k:], "vmrss_kib"), avg(after[-k:],
                                                      "rssanon_kib")
    mx = max(int(x["vmrss_kib"]) for x in r)
    hwm = int(en["vmhwm_kib"] or 0)
    g = 100.0 * (e_rss - w_rss) / w_rss
    ga = 100.0 * (e_anon - w_anon) / max(1, w_anon)
    alive = i not in deaths
    sl = slope([(int(x["elapsed_s"]), int(x["vmrss_kib"])) for x in after])
    print("%-4d %7s %14s %14s %14s %+6.0f%% %+6.0f%% %7s %6s %6s %s" % (
        i, st["pid"], pair(int(st["vmrss_kib"]), int(st["rssanon_kib"])),
        pair(w_rss, w_anon), pair(e_rss, e_anon), g, ga,
        "-" if sl is None else "%+.1f" % sl, mib(mx), mib(hwm),
        "yes" if alive else "NO (gone at %s s)" % deaths[i][1]))
    if max(mx, hwm) > limit:
        fails.append("node %d: RSS peak %.1f MiB > %s MiB" % (
            i, max(mx, hwm) / 1024, env["RSS_LIMIT_MIB"]))
    # Small absolute changes are the map's pages and blocks in flight.
    if g > growth_pct and e_rss - w_rss >= 8192:
        flags.append("node %d: VmRSS grew %.0f %% after the warm-up "
                     "(%.1f -> %.1f MiB; RssAnon %+.0f %%): possible leak"
                     % (i, g, w_rss / 1024, e_rss / 1024, ga))
    elif ga > growth_pct and e_anon - w_anon >= 4096:
        flags.append("node %d: RssAnon grew %.0f %% after the warm-up "
                     "(%.1f -> %.1f MiB): possible leak" % (
                         i, ga, w_anon / 1024, e_anon / 1024))
    if not alive:
        fails.append("node %d (pid %s) died at %s s" % (i, deaths[i][0],
                                                        deaths[i][1]))
loads = [float(x["load1"]) for x in rows if x["node"] == "1"]
print("load average (1 min) over the samples: min %.1f, mean %.1f, max %.1f"
      " on %s cores" % (min(loads), statistics.mean(loads), max(loads),
                        env["NPROC"]))

# Node logs: warnings and errors, by message with numbers and ids masked.
print("# --- node logs (during the load) ---")
levels = collections.Counter()
msgs = collections.Counter()
ups = collections.Counter()
san = 0
for i in range(1, N + 1):
    try:
        f = open(os.path.join(tmp, "run%d.log" % i), errors="replace")
    except OSError:
        continue
    for l in f:
        if re.search(r"AddressSanitizer|LeakSanitizer|runtime error|"
                     r"SUMMARY: ", l):
            san += 1
        m = re.match(r"\S+ umbra\[\d+\] (\w+): (.*)", l)
        if not m:
            continue
        levels[m.group(1)] += 1
        t = re.sub(r"[A-Za-z0-9_-]{43}", "ID", m.group(2))
        t = re.sub(r"\d+(\.\d+)?", "N", t)
        msgs[(m.group(1), t)] += 1
        if t.startswith("link up"):
            ups[i] += 1
print("lines by level: " + ", ".join("%s %d" % kv for kv in
                                     sorted(levels.items())))
warns = [(k, c) for k, c in msgs.most_common() if k[0] in ("warn", "error")]
info = [(k, c) for k, c in msgs.most_common() if k[0] == "info"]
for (lv, t), c in warns[:12] + info[:8]:
    print("  %6d  %s: %s" % (c, lv, t[:160]))
print("'link up' lines by node (links made, path links included): "
      + ", ".join("%d: %d" % (i, ups[i]) for i in range(1, N + 1)))
if levels["error"]:
    flags.append("%d error lines in the node logs" % levels["error"])
if san:
    fails.append("%d sanitizer lines in the node logs" % san)

rc = int(env["STOP_RC"])
err = open(os.path.join(tmp, "testnet.err")).read().strip()
print("# --- stop: testnet exit %d on SIGTERM%s" % (
    rc, "; its stderr: " + err.replace("\n", " | ") if err else ""))
if rc != 0 or err:
    fails.append("the testnet did not stop cleanly (exit %d%s)" % (
        rc, ", a node exited badly" if err else ""))
if env["LOOPS_CUT"] == "1":
    flags.append("a client loop was still running %s s after the end"
                 % env["DRAIN"])
if env["INTERRUPTED"] == "1":
    fails.append("interrupted")

print("# --- verdict ---")
for f in flags:
    print("FLAG: " + f)
for f in fails:
    print("FAIL: " + f)
print("soak: %s" % ("FAILED" if fails else "passed"))
sys.exit(1 if fails else 0)
PY
"$PYTHON" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' \
    "$TMP/report.py" || die "report.py does not parse"

# ---- the testnet ----

echo "# umbra soak: $(uname -srm), $(nproc) cores, load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at start; $SECS s of load," \
    "$CLIENTS client loops, $NODES nodes, seed $SEED"

# testnet_up: starts the testnet and waits for its ready line.
testnet_up() {
	local end=$((SECONDS + TESTNET_WAIT))
	"$UMBRA" testnet --nodes "$NODES" --dir "$TN" >"$TMP/testnet.out" \
	    2>"$TMP/testnet.err" &
	TESTNET_PID=$!
	while [ $SECONDS -lt $end ]; do
		grep -q '^testnet ready' "$TMP/testnet.out" && return 0
		kill -0 "$TESTNET_PID" 2>/dev/null || break
		sleep 0.5
	done
	grep -q '^testnet ready' "$TMP/testnet.out"
}

# A testnet can fail to come up (a late node finding every other one
# full, see docs/bench.md): three tries.
t0=$(now)
for try in 1 2 3; do
	testnet_up && break
	echo "# testnet try $try failed: $(head -c 300 "$TMP/testnet.err" |
	    tr '\n' ' ')"
	stop_pid "$TESTNET_PID"
	TESTNET_PID=""
	rm -rf "$TN"
	[ "$try" -lt 3 ] || die "the testnet did not come up in 3 tries"
done
# "node I: pid PID datadir DIR api HOST:PORT peers P"
while read -r _ i _ pid _ dir _; do
	i=${i%:}
	NPID[i]=$pid
	NDIR[i]=$dir
	echo "$i $pid $dir" >>"$TMP/nodes"
done < <(grep '^node [0-9]*: pid ' "$TMP/testnet.out")
[ ${#NPID[@]} -eq "$NODES" ] || die "the testnet listed ${#NPID[@]}" \
    "nodes, not $NODES"
echo "# testnet ready in $(fmt1 "$(awk -v a="$t0" -v b="$(now)" \
    'BEGIN { print b - a }')") s: node PIDs ${NPID[*]}"

# alive I: node I still runs (its PID, with our datadir on its command
# line: the testnet reaps its nodes, so a dead one leaves no zombie).
alive() { grep -qs "$TMP" "/proc/${NPID[$1]}/cmdline"; }

# snap_all DIR: every node's status JSON into DIR/stI.json (missing if it
# does not answer).
snap_all() {
	local i
	mkdir -p "$1"
	for i in $(seq "$NODES"); do
		timeout $((STATUS_TIMEOUT + 2)) "$UMBRA" status --json \
		    --datadir "${NDIR[i]}" >"$1/st$i.json" 2>/dev/null ||
		    rm -f "$1/st$i.json"
	done
}

# ---- RSS samples: rss.csv ----

cat >"$TMP/sample.py" <<'PY'
# sample.py TMP LABEL ELAPSED: one CSV row per node, from /proc/PID/status
# and the node's status JSON in TMP/st/stI.json.
import json, os, sys
tmp, label, elapsed = sys.argv[1], sys.argv[2], sys.argv[3]
load1 = open("/proc/loadavg").read().split()[0]
for line in open(os.path.join(tmp, "nodes")):
    i, pid, d = line.split()
    f = {}
    try:
        if tmp.encode() in open("/proc/%s/cmdline" % pid, "rb").read():
            for l in open("/proc/%s/status" % pid):
                k, _, v = l.partition(":")
                f[k] = v.split()[0] if v.split() else ""
    except OSError:
        pass
    st = {}
    try:
        st = json.load(open(os.path.join(tmp, "st", "st%s.json" % i)))
    except (OSError, ValueError):
        pass
    store, paths = st.get("store", {}), st.get("paths", [])
    ready = sum(1 for p in paths if p.get("state") == "ready")
    get = lambda d, k: str(d[k]) if k in d else ""
    print(",".join([elapsed, label, i, pid, "1" if f else "0",
                    f.get("VmRSS", ""), f.get("RssAnon", ""),
                    f.get("VmHWM", ""),
                    str(len(st["peers"])) if "peers" in st else "",
                    str(ready) if st else "", get(st, "relayed_paths"),
                    get(store, "blocks"), get(store, "cached_blocks"),
                    get(store, "evictions"), load1]))
PY
echo "elapsed_s,label,node,pid,alive,vmrss_kib,rssanon_kib,vmhwm_kib," \
    "peers,paths_ready,relayed_paths,store_blocks,cached_blocks," \
    "evictions,load1" | tr -d ' ' >"$TMP/rss.csv"

# sample LABEL ELAPSED: appends one row per node to rss.csv.
sample() {
	snap_all "$TMP/st"
	"$PYTHON" "$TMP/sample.py" "$TMP" "$1" "$2" >>"$TMP/rss.csv"
}

# ---- a client loop ----

# ops.tsv, one line per put or get:
#   epoch loop op result node size secs rc detail
# result: ok, pending (put answered but not acknowledged by the network),
# put_error, put_timeout, get_notfound, get_error, get_timeout, mismatch.

# client K NODE: loop K, putting at node NODE, until DEADLINE.
client() {
	local k=$1 pn=$2 w=$TMP/c$1 i=0 child="" id size kind t0 t1 rc
	local res uri line pnode did psize pkind gn age pt detail
	trap 'kill -TERM $child 2>/dev/null; exit 143' TERM
	trap '' INT HUP
	RANDOM=$((SEED + 7919 * k))
	mkdir -p "$w"
	# run CMD... (stdout, stderr to $w/out, $w/err): in the background so
	# that a TERM reaches the loop at once; sets rc.
	run() {
		"$@" >"$w/out" 2>"$w/err" </dev/null &
		child=$!
		wait "$child"
		rc=$?
		child=""
	}
	log() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" \
	    >>"$TMP/ops.tsv"; }
	errline() { head -n 1 "$w/err" | tr '\t' ' ' | cut -c1-200; }
	while [ $i -lt "$SECS" ] && [ "$(date +%s)" -lt "$DEADLINE" ]; do
		i=$((i + 1))
		id=c$k-$i
		# Log-uniform from MIN_SIZE to MAX_SIZE; one in four text.
		size=$(awk -v u=$RANDOM -v a=$MIN_SIZE -v b="$MAX_SIZE" \
		    'BEGIN { printf "%d", a * exp(u / 32767 * log(b / a)) }')
		kind=random
		[ $((RANDOM % 4)) -eq 0 ] && kind=text
		gen "$id" "$size" "$kind" >"$w/doc"
		t0=$(now)
		run timeout "$PUT_TIMEOUT" "$UMBRA" put --datadir "${NDIR[pn]}" \
		    --name "$id" "$w/doc"
		t1=$(now)
		pt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		uri=$(head -n 1 "$w/out")
		detail=$(errline)
		if [ "$rc" -eq 0 ] && [ "${uri#CHK@}" != "$uri" ]; then
			res=ok
			if grep -q 'not yet in the network' "$w/err"; then
				res=pending
			else
				# "URI NODE ID SIZE KIND EPOCH"
				echo "$uri $pn $id $size $kind $(date +%s)" \
				    >>"$TMP/pool"
			fi
		elif [ "$rc" -eq 124 ]; then
			res=put_timeout
		else
			res=put_error
			[ "$rc" -eq 0 ] && detail="exit 0 without a URI: $detail"
		fi
		log "$(date +%s)" "$k" put "$res" "$pn" "$size" "$pt" "$rc" \
		    "$kind $id${detail:+: $detail}"
		rm -f "$w/doc"

		# A get of an earlier URI (any loop's), at a node other than
		# the one that put it: four times in five among the last
		# RECENT, else among all.
		if [ $((RANDOM % 5)) -eq 0 ]; then
			line=$(shuf -n 1 "$TMP/pool" 2>/dev/null)
		else
			line=$(tail -n "$RECENT" "$TMP/pool" 2>/dev/null |
			    shuf -n 1)
		fi
		if [ -n "$line" ]; then
			read -r uri pnode did psize pkind pt <<<"$line"
			gn=$((RANDOM % (NODES - 1) + 1))
			[ "$gn" -ge "$pnode" ] && gn=$((gn + 1))
			age=$(($(date +%s) - pt))
			t0=$(now)
			run timeout "$GET_TIMEOUT" "$UMBRA" get --datadir \
			    "${NDIR[gn]}" "$uri" -o "$w/got"
			t1=$(now)
			detail=$(errline)
			if [ "$rc" -eq 0 ]; then
				if gen "$did" "$psize" "$pkind" |
				    cmp -s - "$w/got"; then
					res=ok
				else
					res=mismatch
					detail="$(stat -c %s "$w/got" \
					    2>/dev/null) bytes"
				fi
			elif [ "$rc" -eq 124 ]; then
				res=get_timeout
			elif grep -qi 'not found' "$w/err"; then
				res=get_notfound
			else
				res=get_error
			fi
			log "$(date +%s)" "$k" get "$res" "$gn" "$psize" \
			    "$(awk -v a="$t0" -v b="$t1" \
			    'BEGIN { printf "%.2f", b - a }')" "$rc" \
			    "$pkind $did from node $pnode, ${age}s old${detail:+: $detail}"
			rm -f "$w/got"
		fi
		sleep "$PAUSE" &
		child=$!
		wait "$child"
		child=""
	done
}

# ---- the run ----

: >"$TMP/ops.tsv"
: >"$TMP/pool"
sample start 0
cp -r "$TMP/st" "$TMP/first"	# the counters at the start
DEADLINE=$(($(date +%s) + SECS))
LOAD_T0=$(now)
START_EPOCH=$(date +%s)
for k in $(seq "$CLIENTS"); do
	pn=$(((k - 1) * NODES / CLIENTS + 1))
	client "$k" "$pn" &
	LOOP_PIDS+=($!)
	echo "# loop $k: puts at node $pn (pid $!)"
done

# progress: one line on what is done so far.
progress() {
	awk -F'\t' -v t="$1" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
		$3 == "put" { p++; if ($4 != "ok") pf++ }
		$3 == "get" { g++; if ($4 == "mismatch") m++
			else if ($4 != "ok") gf++ }
		END { printf "# t=%d s: puts %d (%d not ok), gets %d (%d failed, " \
		    "%d mismatched); load %s\n", t, p, pf, g, gf, m, load }
	' "$TMP/ops.tsv"
}

# The load runs; the main shell samples RSS and watches the nodes.
next_sample=$INTERVAL
: >"$TMP/deaths"
while :; do
	el=$(($(date +%s) - START_EPOCH))
	[ "$el" -ge "$SECS" ] || [ "$INTERRUPTED" = 1 ] && break
	for i in $(seq "$NODES"); do
		if ! alive "$i" && ! grep -q "^$i " "$TMP/deaths"; then
			echo "$i ${NPID[i]} $el" >>"$TMP/deaths"
			echo "# t=$el s: node $i (pid ${NPID[i]}) is gone"
		fi
	done
	kill -0 "$TESTNET_PID" 2>/dev/null || {
		echo "# t=$el s: the testnet process is gone"
		break
	}
	if [ "$el" -ge "$next_sample" ]; then
		sample sample "$el"
		progress "$el"
		next_sample=$((next_sample + INTERVAL))
	fi
	sleep 1 &
	wait $! 2>/dev/null
done

# The loops end their round (every command has its timeout); then TERM.
DRAIN=$((PUT_TIMEOUT + GET_TIMEOUT + 30))
drain_end=$((SECONDS + DRAIN))
while [ "$INTERRUPTED" = 0 ] && [ $SECONDS -lt $drain_end ]; do
	left=""
	for p in ${LOOP_PIDS[@]+"${LOOP_PIDS[@]}"}; do
		kill -0 "$p" 2>/dev/null && left=1
	done
	[ -z "$left" ] && break
	sleep 1 &
	wait $! 2>/dev/null
done
LOOPS_CUT=0
for p in ${LOOP_PIDS[@]+"${LOOP_PIDS[@]}"}; do
	kill -0 "$p" 2>/dev/null && LOOPS_CUT=1
done
stop_loops
LOAD_T1=$(now)
END_EL=$(($(date +%s) - START_EPOCH))
for i in $(seq "$NODES"); do
	if ! alive "$i" && ! grep -q "^$i " "$TMP/deaths"; then
		echo "$i ${NPID[i]} $END_EL" >>"$TMP/deaths"
	fi
done
sample end "$END_EL"
cp -r "$TMP/st" "$TMP/end"
progress "$END_EL"

# Node logs, read while the nodes still run (before the shutdown lines).
for i in $(seq "$NODES"); do
	cp "$TN/node$i/log" "$TMP/run$i.log" 2>/dev/null
done

# ---- stop the testnet: it sends SIGTERM to every node ----

kill -TERM "$TESTNET_PID" 2>/dev/null
STOP_RC=255
for _ in $(seq 300); do
	if ! kill -0 "$TESTNET_PID" 2>/dev/null; then
		wait "$TESTNET_PID"
		STOP_RC=$?
		break
	fi
	sleep 0.1
done
[ "$STOP_RC" = 255 ] && { stop_pid "$TESTNET_PID"; STOP_RC=99; }
TESTNET_PID=""
wait_others_gone 15 "${NPID[@]}"

# ---- the report ----

REPORTED=1
"$PYTHON" "$TMP/report.py" "$TMP" NODES="$NODES" SECS="$SECS" \
    CLIENTS="$CLIENTS" INTERVAL="$INTERVAL" WARMUP="$WARMUP" \
    MAX_FAIL_PCT="$MAX_FAIL_PCT" RSS_LIMIT_MIB="$RSS_LIMIT_MIB" \
    GROWTH_PCT="$GROWTH_PCT" LOAD_T0="$LOAD_T0" LOAD_T1="$LOAD_T1" \
    START_EPOCH="$START_EPOCH" INTERRUPTED="$INTERRUPTED" \
    STOP_RC="$STOP_RC" LOOPS_CUT="$LOOPS_CUT" DRAIN="$DRAIN" \
    NPROC="$(nproc)" >"$TMP/report.txt"
RC=$?
cat "$TMP/report.txt"
echo "# umbra soak: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $RC
