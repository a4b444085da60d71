# lib.sh - shared helpers for the network tests (sourced, bash).
#
# Each test starts real `umbra node` processes on 127.0.0.1 with port 0,
# talks to them only through the command line and HTTP, prints TAP, and
# stops every process it started, by PID, on any exit.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/../stop_pid.sh"
UMBRA=${UMBRA:-$(cd "$(dirname "$0")/../.." && pwd)/umbra}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/umbra-test.XXXXXX")
TAP_N=0
TAP_FAILED=0
PIDS=""
# A put or get between fewer than 4 nodes cannot build an onion path of
# the default 3 hops (docs/onion.md): "${DIRECT[@]}" makes it route
# straight from its node, as before paths. --hops 0 alone is refused
# (exit 2); with --no-anonymity it warns on stderr.
DIRECT=(--hops 0 --no-anonymity)

# lines FILE: the number of lines in FILE.
lines() { wc -l < "$1" | tr -d ' '; }

# wait_line FILE PATTERN PID SECONDS: waits until FILE has a line matching
# PATTERN, while PID runs, for at most SECONDS.
wait_line() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$4" ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.2
	done
	grep -q "$2" "$1" 2>/dev/null
}

# wait_gone PID SECONDS: waits for PID (a child of this shell) to exit;
# sets RC to its exit status, or 255 if it is still running.
wait_gone() {
	local t0=$SECONDS
	RC=255
	while [ $((SECONDS - t0)) -lt "$2" ]; do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			RC=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}

ok() {		# ok CONDITION-EXIT-STATUS NAME
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

skip() {	# skip NAME REASON
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

diag() { echo "# $*"; }

# stop_all: SIGTERM to every PID in PIDS, then up to 5 s each, then
# SIGKILL.
stop_all() {
	local p
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
}

cleanup() {
	stop_all
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}

# start_node DIR [ARGS...]: starts a node on 127.0.0.1 port 0 in DIR and
# waits (at most 10 s) for DIR/api. Sets NODE_PID; logs go to DIR.log.
start_node() {
	local dir=$1
	shift
	rm -f "$dir/api"
	"$UMBRA" node --datadir "$dir" --api 127.0.0.1:0 --listen 127.0.0.1:0 \
	    "$@" 2>"$dir.log" &
	NODE_PID=$!
	PIDS="$PIDS $NODE_PID"
	for _ in $(seq 100); do
		[ -s "$dir/api" ] && return 0
		kill -0 "$NODE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_node PID: SIGTERM, then wait up to 10 s; returns its exit status.
stop_node() { stop_pid "$1"; }

# check_node_log LOG: checks that LOG holds no sanitizer report, and shows
# its last lines if anything in the test failed.
check_node_log() {
	! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error|SUMMARY: ' "$1"
	ok $? "no sanitizer report in the node's log"
	if [ "$TAP_FAILED" -gt 0 ]; then
		diag "node log (last lines):"
		tail -15 "$1" | sed 's/^/#   /'
	fi
}

# linked DIR COUNT: the node in DIR has at least COUNT peers.
linked() {
	local n
	n=$("$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["peers"]))' \
	    2>/dev/null)
	[ "${n:-0}" -ge "$2" ]
}

# wait_until SECONDS CMD...: runs CMD every 0.3 s until it succeeds;
# non-zero if it has not within SECONDS.
wait_until() {
	local t0=$SECONDS s=$1
	shift
	until "$@"; do
		[ $((SECONDS - t0)) -ge "$s" ] && return 1
		sleep 0.3
	done
}

# api_url DIR: http://HOST:PORT of the node in DIR; token DIR: its token.
api_url() { echo "http://$(cat "$1/api")"; }
token() { cat "$1/api.token"; }

# rss_kb PID: resident set size in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# fd_count PID: the number of file descriptors PID holds.
fd_count() {
	local f=(/proc/"$1"/fd/*)
	echo "${#f[@]}"
}

# sample_proc PID FILE: every 0.25 s while PID runs (at most 2 hours),
# appends "EPOCH-SECONDS VMRSS-KIB FDS" to FILE. Run it in the
# background; it ends with PID. It forks nothing (it waits in read -t on
# a pipe nobody writes): under load, a sampler that forks falls behind.
sample_proc() {
	local pid=$1 out=$2 i k v rss f t sfd
	exec {sfd}<> <(:)
	for ((i = 0; i < 28800; i++)); do
		[ -r "/proc/$pid/status" ] || break
		rss=""
		while read -r k v _; do
			[ "$k" = VmRSS: ] && rss=$v && break
		done 2>/dev/null < "/proc/$pid/status"
		[ -n "$rss" ] || break		# gone, or a zombie
		f=(/proc/"$pid"/fd/*)
		t=${EPOCHREALTIME:-$(date +%s.%N)}	# bash 5, or a fork
		echo "${t/,/.} $rss ${#f[@]}" >> "$out"
		read -r -t 0.25 -u "$sfd" _
	done
	exec {sfd}<&-
}
