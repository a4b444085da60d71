#!/bin/bash
# disk.sh - a node's store in trouble (SPEC "Errors and bad input": a
# node never corrupts its store, and every block whose insert it
# acknowledged is still there).
#
#  - a nearly full file system (a small tmpfs the test mounts): puts fail
#    with a clear error once it is full, the node keeps serving every
#    document it acknowledged, takes puts again once there is room, and
#    its store checks clean after a restart;
#  - a read-only datadir (a read-only bind mount): the node refuses to
#    start, says why, and changes nothing;
#  - a data file cut short, or with its first pages overwritten: the node
#    refuses to start, says so, and leaves the file as it was;
#  - one byte of a block flipped on disk: the node finds the damage when
#    it reads the block, logs it, fails that get cleanly while it has no
#    peers, and serves the document whole again from a peer.
# Mounting needs root (CAP_SYS_ADMIN); without it those parts skip with
# the reason.
. "$(dirname "$0")/lib.sh"

CHECK=$TOP_BUILDDIR/tests/net/store_check
MOUNTS=""

# mount_tmpfs DIR SIZE: a fresh tmpfs of SIZE on DIR.
mount_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" \
	    2>/dev/null && MOUNTS="$1 $MOUNTS"
}
# mount_ro DIR: DIR bind-mounted on itself, read-only.
mount_ro() {
	mount --bind "$1" "$1" 2>/dev/null || return 1
	MOUNTS="$1 $MOUNTS"
	mount -o remount,ro,bind "$1" 2>/dev/null
}
unmount() { umount "$1" 2>/dev/null; MOUNTS=${MOUNTS//"$1 "/}; }
# The nodes must be gone before their file systems are unmounted, and
# those before lib.sh's cleanup removes $TMP.
disk_cleanup() {
	local p m
	for p in $PIDS; do stop_pid "$p" > /dev/null 2>&1; done
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	cleanup
}
trap disk_cleanup EXIT

field() {	# field DIR PY-EXPR: a field of the node's status --json
	"$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c "import json, sys; s = json.load(sys.stdin); print($2)" \
	    2>/dev/null
}
# sums DIR: the checksum of the node's data file (lock.mdb, LMDB's table
# of readers, is rewritten by every opener and holds no data).
sums() { sha256sum "$1/store/data.mdb" 2>/dev/null | cut -c1-64; }

# refuses DIR NAME: starts a node on DIR and checks it exits non-zero
# within 10 s with an error line about its store, changing no file of it.
refuses() {
	local before after rc
	before=$(sums "$1")
	"$UMBRA" node --datadir "$1" --api 127.0.0.1:0 --listen 127.0.0.1:0 \
	    2> "$1.refused.log" &
	local pid=$!
	PIDS="$PIDS $pid"
	wait_gone "$pid" 10
	rc=$RC
	after=$(sums "$1")
	[ "$rc" != 0 ] && [ "$rc" != 255 ]
	ok $? "$2: the node refuses to start (exit $rc)"
	grep -m1 -E '\[?(err|ERR)' "$1.refused.log" | sed 's/^/# node: /'
	grep -qiE 'store.*(corrupt|unreadable|cannot)' "$1.refused.log"
	ok $? "$2: it says what is wrong with its store"
	[ -n "$before" ] && [ "$before" = "$after" ]
	ok $? "$2: the store's files are left as they were"
}

# put_n DIR COUNT SIZE: puts COUNT new random documents of SIZE bytes;
# appends "URI FILE" to $TMP/acked for each acknowledged one, and the
# stderr line of the first failure to $TMP/put.err. Returns how many
# were acknowledged in $PUT_OK.
put_n() {
	local i f uri
	PUT_OK=0
	: > "$TMP/put.err"
	for i in $(seq "$2"); do
		f="$TMP/docs/$RANDOM.$i"
		head -c "$3" /dev/urandom > "$f"
		if uri=$(timeout 30 "$UMBRA" put --datadir "$1" "$f" \
		    2> "$TMP/put.one.err"); then
			echo "$uri $f" >> "$TMP/acked"
			PUT_OK=$((PUT_OK + 1))
		else
			[ -s "$TMP/put.err" ] ||
			    grep -v warning "$TMP/put.one.err" > "$TMP/put.err"
			rm -f "$f"
		fi
	done
}

# all_back DIR [ARGS...]: every acknowledged document comes back
# identical from `umbra get --datadir DIR ARGS...`.
all_back() {
	local uri f n=0 t=0 dir=$1
	shift
	while read -r uri f; do
		t=$((t + 1))
		timeout 30 "$UMBRA" get --datadir "$dir" "$@" "$uri" -o "$TMP/got" \
		    2>/dev/null && cmp -s "$f" "$TMP/got" && n=$((n + 1))
	done < "$TMP/acked"
	ALL_BACK="$n of $t"
	[ "$n" -eq "$t" ]
}

[ -x "$CHECK" ]; ok $? "store_check is built ($CHECK)"
mkdir -p "$TMP/docs"

# ---- a nearly full file system ----
F="$TMP/full"
if mount_tmpfs "$F" 48m; then
	: > "$TMP/acked"
	start_node "$F/n" --store-size 1G
	ok $? "a node starts on a 48 MiB tmpfs with --store-size 1G"
	PID=$NODE_PID
	put_n "$F/n" 4 1048576
	[ "$PUT_OK" = 4 ]; ok $? "4 puts of 1 MiB are acknowledged"
	# Leave about 6 MiB free: the next puts fill the disk.
	free_kb=$(df -k --output=avail "$F" | tail -1)
	fallocate -l $(( (free_kb - 6144) * 1024 )) "$F/filler" 2>/dev/null ||
	    head -c $(( (free_kb - 6144) * 1024 )) /dev/zero > "$F/filler"
	diag "filled: $(df -h --output=avail "$F" | tail -1 | tr -d ' ') left"
	put_n "$F/n" 12 1048576
	diag "with the disk nearly full: $PUT_OK of 12 puts of 1 MiB acknowledged; the first failure: $(head -c 300 "$TMP/put.err")"
	[ "$PUT_OK" -lt 12 ]; ok $? "puts fail once the disk is full"
	grep -qi 'disk.*full' "$TMP/put.err"
	ok $? "the failed put says the disk holding the store is full"
	[ "$(wc -l < "$TMP/put.err")" -eq 1 ]
	ok $? "... in one line on stderr"
	kill -0 "$PID" 2>/dev/null; ok $? "the node is still running"
	all_back "$F/n"; ok $? "every acknowledged document comes back identical ($ALL_BACK)"
	grep -qi 'disk holding the store is full' "$F/n.log"
	ok $? "the node logs that the disk is full"
	rm -f "$F/filler"
	put_n "$F/n" 2 1048576
	[ "$PUT_OK" = 2 ]; ok $? "with room again, puts are acknowledged again"
	stop_node "$PID"; ok $? "the node stops cleanly (exit 0)"
	out=$("$CHECK" "$F/n/store" 2>&1)
	ok $? "its store opens clean and every block matches its key ($out)"
	start_node "$F/n" --store-size 1G
	ok $? "the node restarts"
	PID=$NODE_PID
	all_back "$F/n"; ok $? "after the restart every acknowledged document comes back identical ($ALL_BACK)"
	stop_node "$PID"; ok $? "the node stops cleanly"
	check_node_log "$F/n.log"
	unmount "$F"
else
	skip "a store on a nearly full file system" "cannot mount a tmpfs (needs root)"
fi

# ---- a read-only datadir ----
R="$TMP/ro"
start_node "$R"; ok $? "a node starts on a fresh datadir"
: > "$TMP/acked"
put_n "$R" 2 100000
stop_node "$NODE_PID"; ok $? "... takes 2 puts and stops"
if mount_ro "$R"; then
	refuses "$R" "a read-only datadir"
	unmount "$R"
	start_node "$R"; ok $? "writable again, the node starts"
	all_back "$R"; ok $? "... and has both documents ($ALL_BACK)"
	stop_node "$NODE_PID"; ok $? "... and stops cleanly"
else
	skip "a read-only datadir" "cannot bind-mount read-only (needs root)"
fi

# ---- a data file cut short or overwritten ----
for how in half page meta; do
	D="$TMP/cut-$how"
	cp -a "$R" "$D"
	data="$D/store/data.mdb"
	size=$(stat -c %s "$data")
	case $how in
	half) truncate -s $((size / 2)) "$data"; what="data.mdb cut to half ($((size / 2)) of $size bytes)" ;;
	page) truncate -s 4096 "$data"; what="data.mdb cut to its first page" ;;
	meta) head -c 8192 /dev/urandom | dd of="$data" conv=notrunc status=none
	      what="data.mdb's two meta pages overwritten with random bytes" ;;
	esac
	refuses "$D" "$what"
done

# ---- a block damaged on disk ----
A="$TMP/a"; B="$TMP/b"
start_node "$A" && PID_A=$NODE_PID &&
    start_node "$B" --peer "$(cat "$A/address")" && PID_B=$NODE_PID
ok $? "nodes A and B start, B linked to A"
linked() { [ "$(field "$1" 'len(s["peers"])')" -ge 1 ] 2>/dev/null; }
for _ in $(seq 100); do linked "$A" && linked "$B" && break; sleep 0.2; done
: > "$TMP/acked"
for i in 1 2 3; do
	f="$TMP/docs/damage.$i"
	head -c 200000 /dev/urandom > "$f"
	uri=$(timeout 60 "$UMBRA" put --datadir "$A" "${DIRECT[@]}" "$f" \
	    2>/dev/null) && echo "$uri $f" >> "$TMP/acked"
done
[ "$(lines "$TMP/acked")" = 3 ]
ok $? "A puts 3 documents, acknowledged by the network (B)"
stop_node "$PID_B"; stop_node "$PID_A"
# Flip one byte in the middle of the first LMDB overflow page (flag 0x04
# in the page header: only the blocks are that large).
python3 - "$A/store/data.mdb" <<'EOF'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
psize = 4096
for off in range(2 * psize, len(data), psize):
    flags = int.from_bytes(data[off + 10:off + 12], "little")
    if flags & 0x04:
        data[off + 16 + 5000] ^= 0x01
        open(path, "r+b").write(data)
        print("flipped a byte of the overflow page at", off)
        break
else:
    sys.exit("no overflow page found")
EOF
ok $? "one byte of a stored block flipped in A's data.mdb (A stopped)"
out=$("$CHECK" "$A/store" 2>&1)
[ $? -eq 1 ] && [ "${out##* bad }" = 1 ]
ok $? "store_check finds exactly that block damaged ($out)"
start_node "$A"; ok $? "A starts alone (the damage is in a block, not the B-tree)"
PID_A=$NODE_PID
good=0
while read -r uri f; do
	if timeout 30 "$UMBRA" get --datadir "$A" "${DIRECT[@]}" "$uri" \
	    -o "$TMP/got" 2> "$TMP/get.err"; then
		cmp -s "$f" "$TMP/got" && good=$((good + 1))
	else
		diag "the get that failed: $(head -c 200 "$TMP/get.err")"
		[ "$(grep -vc warning "$TMP/get.err")" -eq 1 ] &&
		    grep -qi 'not found' "$TMP/get.err" && good=$((good + 10))
	fi
done < "$TMP/acked"
[ "$good" -eq 12 ]
ok $? "alone, A serves 2 documents identical and fails the damaged one with one clear line ($good)"
grep -q 'does not match its key' "$A.log"
ok $? "A logs the damaged block"
start_node "$B" --peer "$(cat "$A/address")"; ok $? "B starts again, linked to A"
PID_B=$NODE_PID
for _ in $(seq 100); do linked "$A" && break; sleep 0.2; done
all_back "$A" "${DIRECT[@]}"; ok $? "with B back, A serves all 3 documents identical ($ALL_BACK)"
stop_node "$PID_B"; ok $? "B stops cleanly"
stop_node "$PID_A"; ok $? "A stops cleanly"
out=$("$CHECK" "$A/store" 2>&1)
ok $? "A's store checks clean again: the damaged block is gone from it ($out)"
check_node_log "$A.log"
check_node_log "$B.log"

done_testing
