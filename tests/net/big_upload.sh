#!/bin/bash
# big_upload.sh - the upload memory bound of SPEC ("a node stays under
# 256 MiB of RSS under any load, uploads of any size included"): 1 GiB of
# incompressible bytes piped into `umbra put -` (unknown length, so a
# chunked upload), then read back with `umbra get`, while the node's
# VmRSS is sampled every 0.2 s. Checks the exit codes, the URI line, the
# store's block count, the peak RSS and the bytes (sha256), and reports
# the throughput.
#
# UMBRA_BIG_BYTES overrides the size (default 1 GiB) for a quick run; the
# SPEC check is the default. A sanitizer build (seen by __asan_init in the
# binary, or UMBRA_SANITIZED=1) gets a bound of 768 MiB: ASan's shadow
# memory and quarantine are not the node's.
. "$(dirname "$0")/lib.sh"

BYTES=${UMBRA_BIG_BYTES:-1073741824}
LIMIT_MIB=256
if [ "${UMBRA_SANITIZED:-0}" = 1 ] ||
    nm "$UMBRA" 2>/dev/null | grep -q __asan_init ||
    grep -qa __asan_init "$UMBRA" 2>/dev/null; then
	LIMIT_MIB=768
	diag "sanitizer build: RSS bound raised from 256 to $LIMIT_MIB MiB"
fi
LIMIT_KB=$((LIMIT_MIB * 1024))
TIME_LIMIT=600		# seconds for each of put and get: a hang, not a pace

N="$TMP/n"
if ! start_node "$N" --store-size 2G; then
	ok 1 "node starts with --store-size 2G"
	tail -20 "$N.log" 2>/dev/null | sed 's/^/# node: /'
	done_testing
fi
ok 0 "node starts with --store-size 2G"
PID=$NODE_PID

# gen: BYTES incompressible bytes on stdout, cheaply.
if openssl enc -aes-128-ctr -pass pass:x -nosalt -pbkdf2 </dev/null \
    >/dev/null 2>&1; then
	gen() {
		openssl enc -aes-128-ctr -pass pass:x -nosalt -pbkdf2 \
		    </dev/zero 2>/dev/null | head -c "$BYTES"
	}
	diag "generator: openssl aes-128-ctr keystream"
else
	gen() {
		python3 -c '
import os, sys
n = int(sys.argv[1])
out = sys.stdout.buffer
while n > 0:
    k = min(n, 1 << 20)
    out.write(os.urandom(k))
    n -= k
' "$BYTES"
	}
	diag "generator: python3 os.urandom"
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v n="$BYTES" -v t="$1" \
    'BEGIN { printf "%.1f", (t > 0) ? n / t / 1e6 : 0 }'; }

# sampler OUT: every 0.2 s while the node lives (at most 2 h), keeps in
# OUT "VMRSS_KB ANON_KB FILE_KB" of the sample with the peak VmRSS, then
# the peak RssAnon. Runs in the background; stopped by PID.
sampler() {
	local out=$1 peak=0 peak_anon=0 line=
	echo "0 0 0 0" >"$out"
	for _ in $(seq 36000); do
		set -- $(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
		    /^RssFile:/ { f = $2 } END { print r + 0, a + 0, f + 0 }' \
		    "/proc/$PID/status" 2>/dev/null)
		[ "${1:-0}" -gt 0 ] || break
		[ "$1" -gt "$peak" ] && peak=$1 && line="$1 $2 $3"
		[ "$2" -gt "$peak_anon" ] && peak_anon=$2
		echo "$line $peak_anon" >"$out.new" && mv "$out.new" "$out"
		sleep 0.2
	done
}
SAMPLER=""
stop_sampler() {
	[ -n "$SAMPLER" ] || return 0
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	SAMPLER=""
}
HASHER=""
trap 'stop_sampler; [ -n "$HASHER" ] && kill "$HASHER" 2>/dev/null; cleanup' EXIT

report_peak() {	# report_peak FILE WHAT
	local r a f pa
	read -r r a f pa <"$1"
	diag "$2: peak VmRSS $((r / 1024)) MiB (RssAnon $((a / 1024)) MiB," \
	    "RssFile $((f / 1024)) MiB; peak RssAnon $((pa / 1024)) MiB)," \
	    "bound $LIMIT_MIB MiB"
	[ "$r" -gt 0 ] && [ "$r" -lt "$LIMIT_KB" ]
}

# ---- put: a pipe of BYTES, hashed on the way ----

mkfifo "$TMP/hash.fifo"
sha256sum <"$TMP/hash.fifo" | cut -d' ' -f1 >"$TMP/in.sha" &
HASHER=$!
sampler "$TMP/put.peak" &
SAMPLER=$!
t0=$(now)
gen | tee "$TMP/hash.fifo" |
    timeout "$TIME_LIMIT" "$UMBRA" put --datadir "$N" - \
    >"$TMP/uri" 2>"$TMP/put.err"
rcs=("${PIPESTATUS[@]}")
t_put=$(since "$t0")
sleep 0.5		# a last sample or two: the end of a put is its peak
stop_sampler
for _ in $(seq 100); do		# the hasher ends with the pipe
	kill -0 "$HASHER" 2>/dev/null || break
	sleep 0.1
done
wait "$HASHER" 2>/dev/null
HASHER=""

[ "${rcs[2]}" = 0 ]
ok $? "umbra put - of $BYTES piped bytes exits 0 (rc ${rcs[2]}, in $t_put s)"
[ "$(wc -l <"$TMP/uri")" = 1 ] && grep -q '^CHK@[A-Za-z0-9_-]*,' "$TMP/uri"
r=$?
ok $r "put prints exactly one URI line"
[ "$r" = 0 ] || head -c 2000 "$TMP/uri" | sed 's/^/# put stdout: /' | head -5
sed 's/^/# put stderr: /' "$TMP/put.err" | head -5
diag "put: $BYTES bytes in $t_put s, $(mbps "$t_put") MB/s (chunked pipe upload)"
report_peak "$TMP/put.peak" "during the put"
ok $? "the node's peak VmRSS during the put stays under $LIMIT_MIB MiB"
kill -0 "$PID" 2>/dev/null
ok $? "the node is alive after the put"

"$UMBRA" status --datadir "$N" --json >"$TMP/status.json" 2>"$TMP/status.err"
blocks=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["store"]["blocks"])' "$TMP/status.json" \
    2>/dev/null)
diag "store after the put: ${blocks:-?} blocks"
[ "${blocks:-0}" -ge $(( (BYTES + 32767) / 32768 )) ] 2>/dev/null
ok $? "umbra status --json shows at least $(( (BYTES + 32767) / 32768 )) blocks (one per 32 KiB)"

# ---- get: hashed as it streams, never on disk ----

URI=$(head -n 1 "$TMP/uri")
sampler "$TMP/get.peak" &
SAMPLER=$!
t0=$(now)
timeout "$TIME_LIMIT" "$UMBRA" get --datadir "$N" "$URI" 2>"$TMP/get.err" |
    sha256sum | cut -d' ' -f1 >"$TMP/out.sha"
rcs=("${PIPESTATUS[@]}")
t_get=$(since "$t0")
sleep 0.5
stop_sampler

[ "${rcs[0]}" = 0 ]
ok $? "umbra get of the URI exits 0 (rc ${rcs[0]}, in $t_get s)"
sed 's/^/# get stderr: /' "$TMP/get.err" | head -5
diag "get: $BYTES bytes in $t_get s, $(mbps "$t_get") MB/s"
[ -s "$TMP/in.sha" ] && [ "$(cat "$TMP/in.sha")" = "$(cat "$TMP/out.sha")" ]
ok $? "the document read back has the sha256 of the generated stream ($(cut -c1-16 "$TMP/in.sha"))"
report_peak "$TMP/get.peak" "during the get"
ok $? "the node's peak VmRSS during the get stays under $LIMIT_MIB MiB"

# ---- stop ----

t0=$(now)
stop_node "$PID"
rc=$?
ok $rc "the node exits 0 on SIGTERM (in $(since "$t0") s)"
check_node_log "$N.log"

done_testing
