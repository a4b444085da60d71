#!/bin/bash
# cli.sh - one node, driven only through the umbra command line: every
# promise of SPEC "Command line" and "Errors and bad input" for one node.
. "$(dirname "$0")/lib.sh"

D=$TMP/node
mkdir -p "$D"

# within SECONDS CMD...: runs CMD with a time bound; its status.
within() { local s=$1; shift; timeout "$s" "$@"; }

"$UMBRA" --version > "$TMP/out" 2>&1
ok $? "umbra --version exits 0"
grep -q '^umbra [0-9]' "$TMP/out"; ok $? "--version prints 'umbra VERSION'"
"$UMBRA" --help > "$TMP/out" 2>&1 && grep -q 'umbra put' "$TMP/out"
ok $? "umbra --help lists the subcommands"
for c in node put get status; do
	"$UMBRA" $c --help > "$TMP/out" 2>&1 && grep -q "usage: umbra $c" "$TMP/out"
	ok $? "umbra $c --help"
done
"$UMBRA" frobnicate 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && [ "$(lines "$TMP/err")" = 1 ]
ok $? "unknown subcommand: exit 2 and one line"
"$UMBRA" node --store-size 12Q --datadir "$D" 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'store-size' "$TMP/err"
ok $? "bad --store-size: exit 2 naming the option"

# ---- no node running ----
within 10 "$UMBRA" put --datadir "$D" /etc/hostname > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'no node running' "$TMP/err" && [ "$(lines "$TMP/err")" = 1 ]
ok $? "put with no node: exit 3, one line 'no node running'"
within 10 "$UMBRA" status --api 127.0.0.1:1 2> "$TMP/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'no node running at 127.0.0.1:1' "$TMP/err"
ok $? "status against a closed port: exit 3, connection refused"

# ---- start ----
start_node "$D" --store-size 64M
ok $? "node starts and writes DIR/api within 10 s"
PID=$NODE_PID
[ "$(stat -c %a "$D/api.token")" = 600 ]; ok $? "DIR/api.token is mode 0600"
[ "$(stat -c %a "$D/identity.key")" = 600 ]; ok $? "DIR/identity.key is mode 0600"
grep -q '^127\.0\.0\.1:[1-9][0-9]*$' "$D/api"; ok $? "DIR/api holds the port it got"
grep -q 'ready' "$D.log"; ok $? "node logs that it is ready"

# ---- round trips of boundary sizes ----
python3 - "$TMP" <<'PY'
import os, sys, random
t = sys.argv[1]
r = random.Random(7)
def rnd(n): return bytes(r.getrandbits(8) for _ in range(n)) if n < 70000 else os.urandom(n)
sizes = {"empty": 0, "one": 1, "b32767": 32767, "b32768": 32768, "b32769": 32769}
for name, n in sizes.items():
    open(os.path.join(t, name), "wb").write(rnd(n))
open(os.path.join(t, "rand5m"), "wb").write(os.urandom(5 * 1024 * 1024 + 123))
words = "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their".split()
out = []
for i in range(400000):
    out.append(r.choice(words))
    out.append("\n" if i % 13 == 12 else " ")
open(os.path.join(t, "text"), "w").write("".join(out))
PY
for f in empty one b32767 b32768 b32769 rand5m text; do
	"$UMBRA" put --datadir "$D" "$TMP/$f" > "$TMP/uri.$f" 2> "$TMP/err.$f"; rc=$?
	[ $rc -eq 0 ] && [ "$(lines "$TMP/uri.$f")" = 1 ] && grep -q '^CHK@' "$TMP/uri.$f"
	ok $? "put $f: exit 0, exactly one line, a CHK@ URI"
	"$UMBRA" get --datadir "$D" "$(cat "$TMP/uri.$f")" > "$TMP/got.$f" 2> "$TMP/err"
	rc=$?
	[ $rc -eq 0 ] && cmp -s "$TMP/$f" "$TMP/got.$f"
	ok $? "get $f to stdout: exit 0, the same bytes"
done
grep -q 'not yet in the network' "$TMP/err.one"
ok $? "put on a node without peers warns that the document is not in the network"
[ ! -s "$TMP/err" ]; ok $? "get prints nothing on stderr when it is not a terminal"
grep -q '/text$' "$TMP/uri.text"; ok $? "the URI ends with /NAME of the file"
"$UMBRA" get --datadir "$D" "$(cat "$TMP/uri.rand5m")" -o "$TMP/o5" 2>/dev/null &&
    cmp -s "$TMP/rand5m" "$TMP/o5"
ok $? "get -o FILE writes the same bytes"
ls "$TMP" | grep -q 'umbra-'; [ $? -ne 0 ]; ok $? "get -o leaves no temporary file"
# A device is written in place: renaming over it would replace /dev/null
# with a file, for every program on the machine. A FIFO stands in for it.
mkfifo "$TMP/fifo"
timeout 30 cat "$TMP/fifo" > "$TMP/fifo.out" &
catpid=$!
"$UMBRA" get --datadir "$D" "$(cat "$TMP/uri.rand5m")" -o "$TMP/fifo" \
    2>/dev/null
rc=$?
wait "$catpid"
[ "$rc" -eq 0 ] && [ -p "$TMP/fifo" ] && cmp -s "$TMP/rand5m" "$TMP/fifo.out"
ok $? "get -o FIFO writes through it and leaves it a FIFO"

# ---- determinism and names ----
u1=$("$UMBRA" put --datadir "$D" "$TMP/rand5m" 2>/dev/null)
[ "$u1" = "$(cat "$TMP/uri.rand5m")" ]; ok $? "the same bytes under the same name give the same URI"
cp "$TMP/rand5m" "$TMP/other name.bin"
u2=$("$UMBRA" put --datadir "$D" "$TMP/other name.bin" 2>/dev/null)
[ "${u2%%/*}" = "${u1%%/*}" ] && [ "${u2##*/}" = "other%20name.bin" ]
ok $? "another name changes only the /NAME part, %-encoded"
u3=$(cat "$TMP/rand5m" | "$UMBRA" put --datadir "$D" - 2>/dev/null)
[ "$u3" = "${u1%%/*}" ]; ok $? "put - reads standard input; no name"
"$UMBRA" get --datadir "$D" "$u2" 2>/dev/null | cmp -s - "$TMP/rand5m"
ok $? "get by a URI with an escaped name"

# ---- bad input ----
bad_get() {	# bad_get NAME URI EXPECTED-STATUS PATTERN
	local t0=$SECONDS
	within 10 "$UMBRA" get --datadir "$D" "$2" -o "$TMP/bad.out" > /dev/null 2> "$TMP/err"
	local rc=$?
	[ $rc -eq "$3" ] && grep -qi "$4" "$TMP/err" && [ "$(lines "$TMP/err")" = 1 ] &&
	    [ $((SECONDS - t0)) -le 5 ] && [ ! -e "$TMP/bad.out" ]
	ok $? "get $1: exit $3, one line matching '$4', no output file"
}
U=$(cat "$TMP/uri.rand5m")
bad_get "garbage" "hello" 2 'invalid URI'
bad_get "SSK" "SSK@abc" 2 'invalid URI'
bad_get "truncated" "${U:0:60}" 2 'invalid URI'
bad_get "non-canonical base64" "$(echo "$U" | sed 's/^\(CHK@.\{42\}\)./\1_/')" 2 'invalid URI'
bad_get "altered extra field" "$(echo "$U" | sed 's/,AQ/,Aw/')" 2 'invalid URI'
# Flip one character of the routing key: a valid URI of nothing stored,
# on a node with no peers to ask (not "content not found": it may exist).
k=${U:4:1}; [ "$k" = A ] && n=B || n=A
bad_get "altered routing key" "CHK@$n${U:5}" 1 '^umbra get: no peers: '
# Flip the decryption key: the root is found but does not decrypt.
c=${U:48:1}; [ "$c" = A ] && n=B || n=A
within 10 "$UMBRA" get --datadir "$D" "${U:0:48}$n${U:49}" -o "$TMP/bad.out" 2> "$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ ! -e "$TMP/bad.out" ] && grep -q 'decryption key' "$TMP/err"
ok $? "get with an altered decryption key: exit 1, says so, no output file"
"$UMBRA" put --datadir "$D" "$TMP/does-not-exist" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'cannot read' "$TMP/err" && [ ! -s "$TMP/out" ]
ok $? "put of a missing file: exit 2, 'cannot read', nothing on stdout"
"$UMBRA" put --datadir "$D" "$TMP" > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'directory' "$TMP/err"
ok $? "put of a directory: exit 2"
"$UMBRA" put --datadir "$D" --hops 0 "$TMP/one" 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ]; ok $? "put --hops 0: exit 2"
"$UMBRA" get --datadir "$D" --hops 0 "$(cat "$TMP/uri.one")" > "$TMP/out" \
    2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && [ ! -s "$TMP/out" ]; ok $? "get --hops 0: exit 2, no output"
# No path at all is a choice to make out loud (docs/onion.md, "Paths in
# use"): accepted with --no-anonymity, with a warning on stderr.
"$UMBRA" put --datadir "$D" --hops 0 --no-anonymity "$TMP/one" > "$TMP/out" \
    2> "$TMP/err"; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$TMP/out")" = "$(cat "$TMP/uri.one")" ] &&
    grep -qi 'anonymity' "$TMP/err"
ok $? "put --hops 0 --no-anonymity: exit 0, the same URI, a warning about anonymity on stderr"
"$UMBRA" get --datadir "$D" --hops 0 --no-anonymity "$(cat "$TMP/uri.one")" \
    > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 0 ] && cmp -s "$TMP/one" "$TMP/out" && grep -qi 'anonymity' "$TMP/err"
ok $? "get --hops 0 --no-anonymity: exit 0, the same bytes, a warning about anonymity on stderr"
for c in put get; do
	"$UMBRA" $c --help 2>&1 | grep -q -- '--no-anonymity'
	ok $? "umbra $c --help documents --no-anonymity"
done
"$UMBRA" get --datadir "$D" 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ]; ok $? "get without a URI: exit 2"

# ---- status ----
"$UMBRA" status --datadir "$D" --json > "$TMP/st.json"; rc=$?
[ $rc -eq 0 ] && python3 - "$TMP/st.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("version", "identity", "location", "peers", "store", "pending_inserts"):
    assert k in d, k
assert isinstance(d["peers"], list)
for k in ("blocks", "bytes_used", "bytes_max"):
    assert isinstance(d["store"][k], int), k
assert d["store"]["bytes_max"] == 64 * 1024 * 1024
assert d["pending_inserts"] >= 7, d["pending_inserts"]
assert 0 <= d["location"] < 1
PY
ok $? "status --json has version, identity, location, peers, store, pending_inserts"
PENDING=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pending_inserts"])' "$TMP/st.json")
"$UMBRA" status --datadir "$D" > "$TMP/out" && grep -q '^store ' "$TMP/out" &&
    grep -q '^pending ' "$TMP/out" &&
    grep -q '^paths      0 of our own, 0 relayed for others' "$TMP/out" &&
    grep -q '^routing ' "$TMP/out"
ok $? "status prints a readable summary (store, pending, paths, routing)"

# ---- restart: clean, then SIGKILL ----
stop_node "$PID"; rc=$?
[ $rc -eq 0 ] && [ ! -e "$D/api" ]
ok $? "SIGTERM: exit 0 within 10 s, DIR/api removed"
start_node "$D" --store-size 64M; ok $? "restart with the same datadir"
PID=$NODE_PID
"$UMBRA" get --datadir "$D" "$U" 2>/dev/null | cmp -s - "$TMP/rand5m"
ok $? "a document survives a restart"
p=$("$UMBRA" status --datadir "$D" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending_inserts"])')
[ "$p" = "$PENDING" ]; ok $? "pending inserts survive a restart ($p)"
within 10 "$UMBRA" node --datadir "$D" --api 127.0.0.1:0 2> "$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'another umbra node' "$TMP/err"
ok $? "a second node on the same datadir refuses to start"

head -c 3000000 /dev/urandom > "$TMP/r3"
u=$("$UMBRA" put --datadir "$D" "$TMP/r3" 2>/dev/null)
kill -KILL "$PID"; wait "$PID" 2>/dev/null
start_node "$D" --store-size 64M; ok $? "restart after SIGKILL"
PID=$NODE_PID
"$UMBRA" get --datadir "$D" "$u" 2>/dev/null | cmp -s - "$TMP/r3"
ok $? "a put acknowledged before SIGKILL is retrievable after restart"
stop_node "$PID"

# ---- a full store ----
F=$TMP/full
mkdir -p "$F"
start_node "$F" --store-size 1M; ok $? "node with --store-size 1M"
PID=$NODE_PID
small=$("$UMBRA" put --datadir "$F" "$TMP/b32769" 2>/dev/null)
head -c 2000000 /dev/urandom > "$TMP/r2"
within 20 "$UMBRA" put --datadir "$F" "$TMP/r2" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'store is full' "$TMP/err" && [ "$(lines "$TMP/err")" = 1 ] &&
    [ ! -s "$TMP/out" ]
ok $? "put into a full store: exit 1, one line 'store is full', no URI"
"$UMBRA" get --datadir "$F" "$small" 2>/dev/null | cmp -s - "$TMP/b32769"
ok $? "what was stored before the failed put is still there"
sleep 1
u=$("$UMBRA" put --datadir "$F" "$TMP/b32767" 2>/dev/null) &&
    "$UMBRA" get --datadir "$F" "$u" 2>/dev/null | cmp -s - "$TMP/b32767"
ok $? "after a failed put the space it took is usable again"
stop_node "$PID"

# ---- config file and a corrupt store ----
C=$TMP/conf
mkdir -p "$C"
printf '# test\nstore-size = 8M\nlog-level = debug\n' > "$TMP/umbra.conf"
start_node "$C" --config "$TMP/umbra.conf"; ok $? "node starts with --config"
"$UMBRA" status --datadir "$C" --json | grep -q '"bytes_max":8388608'
ok $? "the config file's store-size is used"
stop_node "$NODE_PID"
printf 'store-size = 8M\nfrobnicate = 1\n' > "$TMP/bad.conf"
"$UMBRA" node --datadir "$C" --config "$TMP/bad.conf" 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'line 2' "$TMP/err"
ok $? "a bad config file: exit 2 naming the line"
cp "$C/store/data.mdb" "$TMP/data.before"
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.write(b"\xff"*8192)' "$C/store/data.mdb"
cp "$C/store/data.mdb" "$TMP/data.corrupt"
within 10 "$UMBRA" node --datadir "$C" --api 127.0.0.1:0 2> "$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'corrupt' "$TMP/err" && cmp -s "$C/store/data.mdb" "$TMP/data.corrupt"
ok $? "a corrupt store: the node refuses to start and leaves it untouched"

done_testing
