#!/bin/bash
# gateway.sh - what a browser gets from one node: the status page at /
# and documents at /CHK@... (until the HTML filter exists, anything a
# browser could run is sent as a download).
. "$(dirname "$0")/lib.sh"

N=$TMP/n
start_node "$N"; ok $? "node starts"
A=$(api_url "$N")
H="Host: $(cat "$N/api")"

get() {		# get URL [CURL ARGS...]: headers to $TMP/h, body to $TMP/b
	local url=$1
	shift
	curl -s --max-time 10 -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' "$@" "$url"
}
header() { tr -d '\r' < "$TMP/h" | awk -v k="$1" 'tolower($0) ~ "^" tolower(k) ":" { sub(/^[^:]*: */, ""); print }'; }

code=$(get "$A/")
[ "$code" = 200 ] && header Content-Type | grep -q '^text/html' &&
    grep -qF -- "$("$UMBRA" status --datadir "$N" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"])')" "$TMP/b"
ok $? "GET / is an HTML status page naming the node's identity"
grep -q '<h2>Store</h2>' "$TMP/b" && grep -q '<h2>Peers</h2>' "$TMP/b"
ok $? "the status page shows peers and store"
header Content-Security-Policy | grep -q "default-src 'none'" &&
    [ "$(header X-Frame-Options)" = DENY ]
ok $? "the status page cannot load anything or be framed"
code=$(get "$A/" -H 'Host: attacker.example')
[ "$code" = 403 ]; ok $? "GET / with a foreign Host: 403"

printf 'plain words\n' > "$TMP/notes.txt"
printf '<script>alert(1)</script>\n' > "$TMP/page.html"
printf '\x00\x01binary' > "$TMP/blob"
t=$("$UMBRA" put --datadir "$N" "$TMP/notes.txt" 2>/dev/null)
h=$("$UMBRA" put --datadir "$N" "$TMP/page.html" 2>/dev/null)
b=$("$UMBRA" put --datadir "$N" "$TMP/blob" 2>/dev/null)

code=$(get "$A/$t")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/notes.txt" &&
    header Content-Type | grep -q '^text/plain' && [ -z "$(header Content-Disposition)" ]
ok $? "GET /CHK@.../notes.txt: the text, inline, as text/plain"
code=$(get "$A/$h")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/page.html" &&
    [ "$(header Content-Disposition)" = attachment ] &&
    [ "$(header Content-Type)" = application/octet-stream ]
ok $? "GET /CHK@.../page.html: a download, never rendered"
code=$(get "$A/$b")
[ "$code" = 200 ] && [ "$(header Content-Disposition)" = attachment ]
ok $? "a document of unknown type is a download"
[ "$(header X-Content-Type-Options)" = nosniff ]; ok $? "documents carry nosniff"
code=$(get "$A/CHK@nonsense")
[ "$code" = 400 ]; ok $? "GET /CHK@nonsense: 400"
[ "${t:4:1}" = A ] && c=B || c=A
code=$(get "$A/${t:0:4}$c${t:5}")
[ "$code" = 404 ]; ok $? "GET of an unknown key: 404"
code=$(get "$A/$t" -H 'Host: attacker.example')
[ "$code" = 403 ]; ok $? "a document with a foreign Host: 403"
code=$(get "$A/" -X POST)
[ "$code" = 405 ]; ok $? "POST /: 405"

stop_node "$NODE_PID"; ok $? "node stops cleanly"
done_testing
