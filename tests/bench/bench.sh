#!/bin/bash
# bench.sh BUILDDIR - `make bench`: the node's put and get speed against the
# machine's own limits, measured in the same run. Not a timed test: it
# reports, and fails only if something broke (a put, a get, a cmp, the node).
# See docs/bench.md for what each line means.
#
# Starts one `umbra node` on 127.0.0.1 (port 0) in a temp dir, stops it by
# PID, removes every file it made. Needs about 1.2 GiB of free space in
# ${TMPDIR:-/tmp}. BENCH_SIZE=BYTES sets the document size (default 256 MiB).

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: bench.sh BUILDDIR" >&2
	exit 2
fi
BUILDDIR=$(cd "$1" && pwd)
UMBRA=$BUILDDIR/umbra
LIMITS=$BUILDDIR/tests/bench/bench_limits
SIZE=${BENCH_SIZE:-268435456}	# bytes per document: 256 MiB
GNUNET_MBPS=41			# GNUnet 0.19 publish here, from the issue
TARGET_PUT_MBPS=150
TARGET_PUT_RATIO=0.5

for f in "$UMBRA" "$LIMITS"; do
	if [ ! -x "$f" ]; then
		echo "bench.sh: $f is missing: run make first" >&2
		exit 2
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/umbra-bench.XXXXXX") || exit 1
NODE_PID=""
SAMPLER_PID=""
FAILED=0

. "$(dirname "$0")/../stop_pid.sh"

cleanup() {
	stop_pid "$SAMPLER_PID"
	stop_pid "$NODE_PID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() {
	echo "bench.sh: $*" >&2
	FAILED=1
	exit 1
}

now() { date +%s.%N; }

# calc EXPR [VAR=VALUE...]: prints awk's value of EXPR.
calc() {
	local expr=$1
	shift
	awk "$@" "BEGIN { printf \"%.6f\", $expr }" </dev/null
}
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }' </dev/null; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }' </dev/null; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' </dev/null; }

echo "# umbra bench: $(uname -srm), $(nproc) cores, load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at start"

# ---- 1. the machine's limits ----

echo "# --- machine limits (bench_limits) ---"
if ! "$LIMITS" "$TMP" >"$TMP/limits.txt" 2>"$TMP/limits.err"; then
	cat "$TMP/limits.txt" "$TMP/limits.err" >&2
	die "bench_limits failed"
fi
cat "$TMP/limits.txt"

# lim NAME: the value bench_limits printed for NAME (empty if none).
lim() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/limits.txt"; }
for v in ENC:chk_encode DEC:chk_decode LMDB_W:lmdb_batch64 \
    LMDB_R:lmdb_read ZSTD:zstd1_text UNZSTD:unzstd_text \
    ZRATIO:zstd1_text_ratio SHA:sha256_ossl; do
	val=$(lim "${v#*:}")
	[ -n "$val" ] || die "bench_limits printed no ${v#*:}"
	printf -v "${v%%:*}" '%s' "$val"
done
# Both stages in series on one core: the time per byte adds up.
PUT_LIMIT=$(calc "1 / (1 / e + 1 / w)" -v e="$ENC" -v w="$LMDB_W")
GET_LIMIT=$(calc "1 / (1 / d + 1 / r)" -v d="$DEC" -v r="$LMDB_R")
# Text: zstd first, then only 1/ratio of the bytes go through blocks.
PUT_TEXT_LIMIT=$(calc "1 / (1 / z + (1 / e + 1 / w) / q)" -v z="$ZSTD" \
    -v e="$ENC" -v w="$LMDB_W" -v q="$ZRATIO")
GET_TEXT_LIMIT=$(calc "1 / (1 / u + (1 / d + 1 / r) / q)" -v u="$UNZSTD" \
    -v d="$DEC" -v r="$LMDB_R" -v q="$ZRATIO")
echo "# put_limit = 1/(1/chk_encode + 1/lmdb_batch64)" \
    "= $(fmt1 "$PUT_LIMIT") MB/s (crypto+store)"
echo "# get_limit = 1/(1/chk_decode + 1/lmdb_read)" \
    "= $(fmt1 "$GET_LIMIT") MB/s"
echo "# with zstd on text (ratio $ZRATIO): put $(fmt1 "$PUT_TEXT_LIMIT")" \
    "MB/s, get $(fmt1 "$GET_TEXT_LIMIT") MB/s"
# The node encodes on its event loop and commits on its store thread, so
# a put may pass the one-core limit, up to the slower of the two stages.
echo "# two-thread bound of a put: min(chk_encode, lmdb_batch64) =" \
    "$(fmt1 "$(calc "e < w ? e : w" -v e="$ENC" -v w="$LMDB_W")") MB/s"
# What chk_block_encode/decode cost beyond their primitives.
CHACHA=$(lim chacha20_ossl)
echo "# chk_encode is $(fmt2 "$(calc "e * (2 / h + 1 / c)" -v e="$ENC" \
    -v h="$SHA" -v c="$CHACHA")") of 1/(2/sha256_ossl + 1/chacha20_ossl)," \
    "chk_decode $(fmt2 "$(calc "d * (1 / h + 1 / c)" -v d="$DEC" \
    -v h="$SHA" -v c="$CHACHA")") of 1/(1/sha256_ossl + 1/chacha20_ossl)"

# ---- 2. the documents ----

echo "# --- documents: 2 x $SIZE bytes ---"
t0=$(now)
if command -v openssl >/dev/null 2>&1; then
	key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	# openssl dies of SIGPIPE when head has enough: the size is checked.
	openssl enc -aes-128-ctr -K "$key" -iv 00000000000000000000000000000000 \
	    -in /dev/zero 2>/dev/null | head -c "$SIZE" >"$TMP/random.bin"
	how="openssl aes-128-ctr"
else
	head -c "$SIZE" /dev/urandom >"$TMP/random.bin"
	how="/dev/urandom"
fi
[ "$(stat -c %s "$TMP/random.bin")" -eq "$SIZE" ] ||
	die "cannot write $TMP/random.bin"
t1=$(now)
"$LIMITS" --text "$SIZE" "$TMP/text.txt" || die "cannot write text.txt"
t2=$(now)
echo "# random.bin: $how in $(fmt2 "$(calc "b - a" -v a="$t0" -v b="$t1")") s;" \
    "text.txt: bench_limits --text in" \
    "$(fmt2 "$(calc "b - a" -v a="$t1" -v b="$t2")") s"

# ---- 3. the node ----

NODE=$TMP/node
mkdir -m 700 "$NODE" || die "cannot make $NODE"
"$UMBRA" node --datadir "$NODE" --api 127.0.0.1:0 --listen 127.0.0.1:0 \
    --store-size 4G 2>"$TMP/node.log" &
NODE_PID=$!
for _ in $(seq 100); do
	[ -s "$NODE/api" ] && break
	kill -0 "$NODE_PID" 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$NODE/api" ]; then
	cat "$TMP/node.log" >&2
	die "the node did not start"
fi
echo "# node: pid $NODE_PID, API $(cat "$NODE/api")"

# The node's RSS every 0.2 s, as "TIME VmRSS RssAnon" lines (KiB), while
# the flag exists. RssAnon is its own memory; the rest is mostly LMDB's
# map, clean page cache the kernel may take back.
touch "$TMP/sampling"
(
	while [ -e "$TMP/sampling" ] && [ -r "/proc/$NODE_PID/status" ]; do
		rss=$(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
		    END { if (r != "") print r, a + 0 }' \
		    "/proc/$NODE_PID/status" 2>/dev/null)
		[ -n "$rss" ] && echo "$(date +%s.%N) $rss"
		sleep 0.2
	done
) >"$TMP/rss.txt" 2>/dev/null &
SAMPLER_PID=$!

# run NAME CMD...: times CMD (wall clock), fails the bench if it fails;
# sets SECS, and appends "NAME START END" to phases.txt for the RSS peaks.
run() {
	local name=$1 a b rc
	shift
	a=$(now)
	"$@"
	rc=$?
	b=$(now)
	if [ $rc -ne 0 ]; then
		cat "$TMP/err" >&2 2>/dev/null
		die "$name failed (exit $rc)"
	fi
	SECS=$(calc "b - a" -v a="$a" -v b="$b")
	echo "$name $a $b" >>"$TMP/phases.txt"
}

do_put() { "$UMBRA" put --datadir "$NODE" "$1" >"$TMP/uri" 2>"$TMP/err"; }
do_get_o() { "$UMBRA" get --datadir "$NODE" "$1" -o "$2" 2>"$TMP/err"; }
do_get_null() { "$UMBRA" get --datadir "$NODE" "$1" >/dev/null 2>"$TMP/err"; }

ROWS=""
row() {		# row CASE SECS LIMIT-NAME LIMIT NOTE
	local mbps ratio
	mbps=$(calc "n / s / 1e6" -v n="$SIZE" -v s="$2")
	ratio=$(calc "m / l" -v m="$mbps" -v l="$4")
	ROWS="$ROWS$(printf '%-16s %8.1f %7.2f s  %-10s %7.1f  %5.2f  %s' \
	    "$1" "$mbps" "$2" "$3" "$4" "$ratio" "$5")"$'\n'
	printf -v "MBPS_${1//[^a-z_]/_}" '%s' "$mbps"
}

for doc in random text; do
	case $doc in
	random) file=$TMP/random.bin plim=$PUT_LIMIT glim=$GET_LIMIT
		note="incompressible: stored as is" ;;
	text) file=$TMP/text.txt plim=$PUT_LIMIT glim=$GET_LIMIT
		note="zstd 1 x$ZRATIO: ~1/$ZRATIO of the bytes are blocks" ;;
	esac
	run "put_$doc" do_put "$file"
	uri=$(cat "$TMP/uri")
	row "put $doc" "$SECS" put_limit "$plim" "$note"
	run "get_$doc" do_get_o "$uri" "$TMP/out"
	cmp -s "$file" "$TMP/out" || die "get $doc -o: the output differs"
	rm -f "$TMP/out"
	row "get $doc -o" "$SECS" get_limit "$glim" "cmp ok; includes fsync"
	run "get_$doc" do_get_null "$uri"
	row "get $doc >null" "$SECS" get_limit "$glim" \
	    "blocks checked by the node"
	if [ "$doc" = random ]; then
		STORE_KB_RANDOM=$(du -sk "$NODE" | cut -f1)
	fi
done
STORE_KB=$(du -sk "$NODE" | cut -f1)
DATA_MB_APPARENT=$(calc "s / 1048576" \
    -v s="$(stat -c %s "$NODE/store/data.mdb" 2>/dev/null || echo 0)")
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$NODE_PID/status")

rm -f "$TMP/sampling"
wait "$SAMPLER_PID"
SAMPLER_PID=""
stop_pid "$NODE_PID"
rc=$?
NODE_PID=""
if [ $rc -ne 0 ]; then
	cat "$TMP/node.log" >&2
	die "the node did not stop cleanly on SIGTERM (status $rc)"
fi

# ---- 4. the report ----

echo "# --- results (MB = 10^6 bytes of the document; $SIZE bytes each) ---"
printf '%-16s %8s %9s  %-10s %7s  %5s  %s\n' case MB/s time "bound by" \
    limit ratio note
printf '%s' "$ROWS"

verdict() { if ge "$1" "$2"; then echo PASS; else echo MISS; fi; }
echo "# --- targets (reported, not enforced) ---"
half=$(calc "r * l" -v r="$TARGET_PUT_RATIO" -v l="$PUT_LIMIT")
printf '%-44s %7.1f  %s\n' \
    "put random >= $TARGET_PUT_MBPS MB/s" "$MBPS_put_random" \
    "$(verdict "$MBPS_put_random" "$TARGET_PUT_MBPS")" \
    "put random >= $TARGET_PUT_RATIO x put_limit ($(fmt1 "$half") MB/s)" \
    "$MBPS_put_random" "$(verdict "$MBPS_put_random" "$half")" \
    "get random >null >= put random ($(fmt1 "$MBPS_put_random"))" \
    "$MBPS_get_random__null" \
    "$(verdict "$MBPS_get_random__null" "$MBPS_put_random")" \
    "get random -o >= put random" "$MBPS_get_random__o" \
    "$(verdict "$MBPS_get_random__o" "$MBPS_put_random")" \
    "get text >null >= put text ($(fmt1 "$MBPS_put_text"))" \
    "$MBPS_get_text__null" \
    "$(verdict "$MBPS_get_text__null" "$MBPS_put_text")"

echo "# --- resources ---"
awk -v phases="$TMP/phases.txt" '
	BEGIN {
		while ((getline l < phases) > 0) {
			split(l, f, " ")
			n++; name[n] = f[1]; a[n] = f[2]; b[n] = f[3]
		}
	}
	{
		if ($2 > peak) peak = $2
		if ($3 > anon) anon = $3
		for (i = 1; i <= n; i++)
			if ($1 >= a[i] && $1 <= b[i] && $2 > p[name[i]])
				p[name[i]] = $2
		samples++
	}
	END {
		printf "node RSS peak (VmRSS every 0.2 s, %d samples): %.1f MiB",
		    samples, peak / 1024
		printf " (RssAnon peak %.1f MiB; the rest is LMDB'"'"'s map)\n",
		    anon / 1024
		printf "  by phase: put random %.1f, get random %.1f,",
		    p["put_random"] / 1024, p["get_random"] / 1024
		printf " put text %.1f, get text %.1f MiB\n",
		    p["put_text"] / 1024, p["get_text"] / 1024
	}' "$TMP/rss.txt"
echo "node VmHWM (the kernel's peak RSS): $(fmt1 "$(calc "k / 1024" \
    -v k="$HWM_KB")") MiB"
printf 'store on disk (du): %.1f MiB after random (%.3f x its %.1f MiB), ' \
    "$(calc "k / 1024" -v k="$STORE_KB_RANDOM")" \
    "$(calc "k * 1024 / s" -v k="$STORE_KB_RANDOM" -v s="$SIZE")" \
    "$(calc "s / 1048576" -v s="$SIZE")"
printf '%.1f MiB after both (%.3f x their %.1f MiB); data.mdb %.1f MiB\n' \
    "$(calc "k / 1024" -v k="$STORE_KB")" \
    "$(calc "k * 1024 / (2 * s)" -v k="$STORE_KB" -v s="$SIZE")" \
    "$(calc "2 * s / 1048576" -v s="$SIZE")" "$DATA_MB_APPARENT"
echo "hash: SHA-256 via OpenSSL EVP, $SHA MB/s on 32 KiB blocks here" \
    "(sha256_sodium $(lim sha256_sodium), blake2b_sodium" \
    "$(lim blake2b_sodium) MB/s)"
echo "reference: GNUnet 0.19 publishes at ~$GNUNET_MBPS MB/s on this" \
    "machine; put random here is $(fmt1 "$(calc "m / g" \
    -v m="$MBPS_put_random" -v g="$GNUNET_MBPS")") x that"
echo "# umbra bench: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $FAILED
