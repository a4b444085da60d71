#!/bin/bash
# prefetch.sh - a long get in a browser shows progress (node/prefetch.h):
# a browser opening a key whose root is not in the store gets a progress
# page that reloads itself while the node fetches the document into its
# own cache (LOCAL blocks); the reload that finds it all there gets the
# document. Images, ranges and ?stream=1 are streamed as they come. What
# was fetched for the reader is never served to a peer: with its only
# source gone, a peer asking this node for it finds nothing.
#
# X inserts into S; X stops; G (the gateway) links to S and fetches from
# it; S stops; P links to G and asks G for the same document.
. "$(dirname "$0")/lib.sh"

S=$TMP/s; X=$TMP/x; G=$TMP/g; P=$TMP/p
Q="hops=0&no_anonymity=1"
NAV=(-H "Sec-Fetch-Dest: document" -H "Sec-Fetch-Mode: navigate")

get() {		# get URL [CURL ARGS...]: headers to $TMP/h, body to $TMP/b
	local url=$1
	shift
	curl -s --max-time 30 -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' "$@" "$url"
}
header() { tr -d '\r' < "$TMP/h" | awk -v k="$1" 'tolower($0) ~ "^" tolower(k) ":" { sub(/^[^:]*: */, ""); print }'; }
is_progress() {
	header Content-Type | grep -q '^text/html' &&
	    grep -q '<meta http-equiv="refresh" content="1">' "$TMP/b" &&
	    grep -q '<progress' "$TMP/b"
}
fetched() {	# fetched DIR: the node's LOCAL blocks
	"$UMBRA" status --datadir "$1" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["store"]["fetched_blocks"])' \
	    2>/dev/null || echo -1
}

start_node "$S" && PID_S=$NODE_PID
ok $? "storage node S starts"
start_node "$X" --peer "$(cat "$S/address")" && PID_X=$NODE_PID
ok $? "inserter X starts, linked to S"
wait_until 20 linked "$X" 1; ok $? "X is linked within 20 s"
head -c $((6 * 1024 * 1024)) /dev/urandom > "$TMP/big"
printf 'small words\n' > "$TMP/notes.txt"
printf 'streamed words\n' > "$TMP/other.txt"
printf 'never read\n' > "$TMP/unread.txt"
U=$(timeout 120 "$UMBRA" put --datadir "$X" "${DIRECT[@]}" "$TMP/big" 2>/dev/null)
T=$(timeout 60 "$UMBRA" put --datadir "$X" "${DIRECT[@]}" "$TMP/notes.txt" 2>/dev/null)
V=$(timeout 60 "$UMBRA" put --datadir "$X" "${DIRECT[@]}" "$TMP/other.txt" 2>/dev/null)
Y=$(timeout 60 "$UMBRA" put --datadir "$X" "${DIRECT[@]}" "$TMP/unread.txt" 2>/dev/null)
[ -n "$U" ] && [ -n "$T" ] && [ -n "$V" ] && [ -n "$Y" ]
ok $? "X inserts a 6 MiB document and three small ones into S"
stop_node "$PID_X"; ok $? "X stops: S alone has the documents"

start_node "$G" --peer "$(cat "$S/address")" && PID_G=$NODE_PID
ok $? "gateway G starts, linked to S"
wait_until 20 linked "$G" 1; ok $? "G is linked within 20 s"
A=$(api_url "$G")

code=$(get "$A/$U?$Q" "${NAV[@]}")
[ "$code" = 200 ] && is_progress && grep -q 'Fetching' "$TMP/b"
ok $? "a browser opening the 6 MiB document gets a progress page that reloads itself"
header Content-Security-Policy | grep -q "default-src 'none'" &&
    grep -q 'href="?hops=0&amp;no_anonymity=1&amp;stream=1"' "$TMP/b"
ok $? "the page loads nothing from outside, and links to the document as it comes"
pages=1; shown=""
for _ in $(seq 300); do
	sleep 0.2
	code=$(get "$A/$U?$Q" "${NAV[@]}")
	if [ "$code" = 200 ] && is_progress; then
		pages=$((pages + 1))
		grep -q 'MiB/s' "$TMP/b" && shown=$(grep -o '[0-9]*%: [^<]*' "$TMP/b")
		continue
	fi
	break
done
diag "progress pages: $pages; last figures: ${shown:-none}"
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/big" &&
    [ "$(header Content-Disposition)" = attachment ]
ok $? "within 60 s the same request gets the document itself, every byte"
n=$(fetched "$G")
[ "$n" -ge 192 ]; ok $? "G keeps what it fetched as its own cache ($n fetched blocks)"
code=$(get "$A/$U?$Q" "${NAV[@]}")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/big"
ok $? "opened again: the document at once, from the store"

code=$(get "$A/$T?$Q" -H "Sec-Fetch-Dest: image")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/notes.txt"
ok $? "a request that is not a navigation (an image) gets the document as it comes"
code=$(get "$A/$V?$Q" "${NAV[@]}")
link=$(grep -o 'href="?[^"]*stream=1"' "$TMP/b" | sed 's/^href="//; s/"$//; s/&amp;/\&/g')
[ "$code" = 200 ] && is_progress && [ -n "$link" ]
ok $? "another document G lacks: a progress page, with its link ($link)"
code=$(get "$A/$V$link" "${NAV[@]}")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/other.txt"
ok $? "that link (?stream=1): the document as it comes, no progress page"
# Y's keys with another decryption key: the root is found, the key fails.
W="${Y:0:48}$(printf 'A%.0s' $(seq 43))${Y:91}"
code=$(get "$A/$W?$Q" "${NAV[@]}")
[ "$code" = 200 ] && is_progress
ok $? "a key G lacks the root of: a progress page first"
for _ in $(seq 60); do
	sleep 0.5
	code=$(get "$A/$W?$Q" "${NAV[@]}")
	[ "$code" = 200 ] && is_progress || break
done
[ "$code" = 422 ] && header Content-Type | grep -q '^text/html' &&
    grep -q 'decryption key does not match' "$TMP/b"
ok $? "... then a page that says why it failed (422: $code)"

stop_node "$PID_S"; ok $? "S stops: G's LOCAL blocks are the only copy left"
start_node "$P" --peer "$(cat "$G/address")" && PID_P=$NODE_PID
ok $? "peer P starts, linked to G"
wait_until 20 linked "$P" 1; ok $? "P is linked within 20 s"
timeout 150 "$UMBRA" get --datadir "$P" "${DIRECT[@]}" "$U" > "$TMP/pout" 2>"$TMP/perr"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -s "$TMP/pout" ]
ok $? "P's get through G finds nothing: G never serves what its reader fetched ($(head -1 "$TMP/perr"))"

stop_node "$PID_P"; ok $? "P stops cleanly"
stop_node "$PID_G"; ok $? "G stops cleanly"
check_node_log "$G.log"
done_testing
