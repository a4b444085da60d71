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
[ "$code" = 200 ] && [ "$(header Content-Type)" = "text/html; charset=utf-8" ] &&
    [ -z "$(header Content-Disposition)" ] && ! grep -qi '<script' "$TMP/b" &&
    grep -q "^<!DOCTYPE html>" "$TMP/b"
ok $? "GET /CHK@.../page.html: filtered HTML, its script gone"
header Content-Security-Policy | grep -q "default-src 'none'; img-src 'self'"
ok $? "a filtered page carries a policy that lets it load only the gateway's images, media and styles"
printf 'body { color: red; background: url(http://x.example/i.png) }\n@import "http://x.example/s.css";\n' > "$TMP/s.css"
sc=$("$UMBRA" put --datadir "$N" "$TMP/s.css" 2>/dev/null)
code=$(get "$A/$sc")
[ "$code" = 200 ] && [ "$(header Content-Type)" = "text/css; charset=utf-8" ] &&
    grep -q 'color' "$TMP/b" && ! grep -qi 'url\|import\|x\.example' "$TMP/b"
ok $? "a style sheet is filtered: its colour stays, its url() and @import go"
head -c $((2 * 1024 * 1024 + 1)) /dev/zero | tr '\0' x > "$TMP/big.html"
bh=$("$UMBRA" put --datadir "$N" "$TMP/big.html" 2>/dev/null)
code=$(get "$A/$bh")
[ "$code" = 200 ] && [ "$(header Content-Disposition)" = attachment ] &&
    [ "$(header Content-Type)" = application/octet-stream ]
ok $? "an HTML document over the filter's 2 MiB: a download, never rendered"
code=$(get "$A/$b")
[ "$code" = 200 ] && [ "$(header Content-Disposition)" = attachment ]
ok $? "a document of unknown type is a download"
[ "$(header X-Content-Type-Options)" = nosniff ]; ok $? "documents carry nosniff"
# ---- the type stored at put time (umbra put --type) ----
ty=$("$UMBRA" put --datadir "$N" --type image/png "$TMP/notes.txt" 2>/dev/null)
[ "${ty:92:2}" = Ag ] && [ "$ty" != "$t" ]
ok $? "put --type image/png: a version-2 URI, not the untyped one"
code=$(get "$A/$ty")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/notes.txt" &&
    [ "$(header Content-Type)" = image/png ] && [ -z "$(header Content-Disposition)" ]
ok $? "GET of it: the stored type wins over the name (.txt), the bytes exactly"
"$UMBRA" get --datadir "$N" "$ty" > "$TMP/out" 2>/dev/null &&
    cmp -s "$TMP/out" "$TMP/notes.txt"
ok $? "umbra get of a typed document: exactly the bytes put"
tz=$("$UMBRA" put --datadir "$N" --type application/zip "$TMP/notes.txt" 2>/dev/null)
code=$(get "$A/$tz")
[ "$code" = 200 ] && [ "$(header Content-Disposition)" = attachment ] &&
    [ "$(header Content-Type)" = application/octet-stream ]
ok $? "a stored type a browser should not render: a download"
for bad in Text/Plain text text/plain\;charset=utf-8 'text/ plain'; do
	"$UMBRA" put --datadir "$N" --type "$bad" "$TMP/notes.txt" \
	    > /dev/null 2> "$TMP/err"
	[ $? = 2 ] && grep -q "bad type" "$TMP/err" || break
done
ok $? "put --type with a malformed type: exit 2 and a clear line"
code=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST --data-binary x \
    -H "Authorization: Bearer $(token "$N")" "$A/api/v1/put?type=image")
[ "$code" = 400 ] && grep -q '"error"' "$TMP/b"
ok $? "API put with type=image: 400 JSON"
apiput() {	# apiput QUERY: the URI of "x" put with QUERY, or nothing
	curl -s -X POST --data-binary x -H "Authorization: Bearer $(token "$N")" \
	    "$A/api/v1/put?$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["uri"])' 2>/dev/null
}
u1=$(apiput type=IMAGE%2FPNG); u2=$(apiput type=image%2Fpng)
[ -n "$u1" ] && [ "$u1" = "$u2" ] && [ "$u1" != "$(apiput)" ]
ok $? "API put with type=IMAGE%2FPNG: taken, stored in lower case (the URI of image/png)"

# ---- ranges (media players seek with them) ----
head -c 3000000 /dev/urandom > "$TMP/movie.webm"
yes 'a line of text, many times over' | head -c 3000000 > "$TMP/long.txt"
mv_=$("$UMBRA" put --datadir "$N" "$TMP/movie.webm" 2>/dev/null)
lt=$("$UMBRA" put --datadir "$N" "$TMP/long.txt" 2>/dev/null)
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }	# slice FILE FROM COUNT
code=$(get "$A/$mv_" -H 'Range: bytes=2000000-2000099')
[ "$code" = 206 ] && [ "$(header Content-Range)" = "bytes 2000000-2000099/3000000" ] &&
    cmp -s "$TMP/b" <(slice "$TMP/movie.webm" 2000000 100) &&
    [ "$(header Accept-Ranges)" = bytes ]
ok $? "Range bytes=2000000-2000099 of a raw 3 MB document: 206, Content-Range, those 100 bytes"
code=$(get "$A/$mv_" -H 'Range: bytes=-5000')
[ "$code" = 206 ] && cmp -s "$TMP/b" <(tail -c 5000 "$TMP/movie.webm")
ok $? "Range bytes=-5000: the last 5000 bytes"
code=$(get "$A/$mv_" -H 'Range: bytes=2999990-')
[ "$code" = 206 ] && cmp -s "$TMP/b" <(tail -c 10 "$TMP/movie.webm") &&
    [ "$(header Content-Range)" = "bytes 2999990-2999999/3000000" ]
ok $? "Range bytes=2999990-: to the end"
code=$(get "$A/$lt" -H 'Range: bytes=1234567-1240000')
[ "$code" = 206 ] && cmp -s "$TMP/b" <(slice "$TMP/long.txt" 1234567 5434)
ok $? "a range of a compressed document: 206 and the right bytes (read and dropped up to it)"
code=$(get "$A/$mv_" -H 'Range: bytes=3000000-')
[ "$code" = 416 ] && [ "$(header Content-Range)" = "bytes */3000000" ]
ok $? "a range past the end: 416 with Content-Range bytes */3000000"
code=$(get "$A/$mv_" -H 'Range: bytes=0-1,5-6')
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/movie.webm"
ok $? "several ranges: the whole document, 200"
code=$(curl -s --max-time 10 -o "$TMP/b" -w '%{http_code}' -H "Authorization: Bearer $(token "$N")" \
    -H 'Range: bytes=100-199' "$A/api/v1/get/$ty")
[ "$code" = 416 ]
ok $? "a range past the end of a 12-byte typed document through the API: 416"
code=$(curl -s --max-time 10 -o "$TMP/b" -w '%{http_code}' -H "Authorization: Bearer $(token "$N")" \
    -H 'Range: bytes=2-5' "$A/api/v1/get/$ty")
[ "$code" = 206 ] && cmp -s "$TMP/b" <(slice "$TMP/notes.txt" 2 4)
ok $? "a range of a typed document through the API counts document bytes"

# ---- the browser's forms: log in, insert a file, open a key ----
CJ="$TMP/cookies"
code=$(get "$A/")
grep -q 'action="/login"' "$TMP/b" && ! grep -q 'action="/upload"' "$TMP/b" &&
    ! grep -q 'name=csrf' "$TMP/b" && ! grep -qF "$(token "$N")" "$TMP/b"
ok $? "logged out, the status page offers a login form, no upload form, and never shows the token"
code=$(get "$A/login" -d "token=0000$(token "$N" | cut -c5-)" -c "$CJ")
[ "$code" = 403 ] && ! grep -q umbra_session "$CJ"
ok $? "login with a wrong token: 403, no cookie"
code=$(get "$A/login" -d "token=$(token "$N")" -c "$CJ")
[ "$code" = 303 ] && [ "$(header Location)" = / ] &&
    header Set-Cookie | grep -q '^umbra_session=[0-9a-f]\{64\}; HttpOnly; SameSite=Strict; Path=/$'
ok $? "login with the token: 303 to /, a session cookie HttpOnly and SameSite=Strict"
get "$A/" -b "$CJ" > /dev/null
CSRF=$(grep -o 'name=csrf value="[0-9a-f]*"' "$TMP/b" | head -1 | sed 's/.*value="//; s/"//')
[ ${#CSRF} = 64 ] && grep -q 'enctype="multipart/form-data"' "$TMP/b" &&
    grep -q '<h2>Requests</h2>' "$TMP/b"
ok $? "logged in, the page has the upload form with a form token, and the recent requests"
printf '<p>uploaded page</p>\n' > "$TMP/up.html"
code=$(get "$A/upload" -b "$CJ" -F "csrf=$CSRF" -F "type=text/plain" -F "file=@$TMP/up.html")
up=$(grep -o 'href="/CHK@[^"]*"' "$TMP/b" | head -1 | sed 's/^href="\///; s/"$//')
[ "$code" = 200 ] && [ -n "$up" ] && [ "${up##*/}" = up.html ]
ok $? "upload with the form token: 200, a page with the new key named up.html"
code=$(get "$A/$up")
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/up.html" &&
    [ "$(header Content-Type)" = "text/plain; charset=utf-8" ]
ok $? "the uploaded file comes back with the type given in the form"
get "$A/" -b "$CJ" > /dev/null
grep -q "<td>put</td><td><code>${up:4:11}</code></td>" "$TMP/b" &&
    grep -q "<td>get</td><td><code>${up:4:11}</code></td>" "$TMP/b"
ok $? "the owner's status page lists that put and that get among the recent requests"
# The token with its last hex digit changed (never to itself).
[ "${CSRF: -1}" = 0 ] && WRONG=${CSRF%?}1 || WRONG=${CSRF%?}0
code=$(get "$A/upload" -b "$CJ" -F "csrf=$WRONG" -F "file=@$TMP/up.html")
[ "$code" = 403 ]; ok $? "upload with a wrong form token: 403"
code=$(get "$A/upload" -F "csrf=$CSRF" -F "file=@$TMP/up.html")
[ "$code" = 403 ]; ok $? "upload without the session cookie: 403"
code=$(get "$A/upload" -b "$CJ" -H 'Origin: http://evil.example' -F "csrf=$CSRF" -F "file=@$TMP/up.html")
[ "$code" = 403 ]; ok $? "upload from another site's page (Origin): 403"
code=$(get "$A/upload" -b "$CJ" -F "csrf=$CSRF" -F "type=not a type" -F "file=@$TMP/up.html")
[ "$code" = 400 ]; ok $? "upload with a malformed type: 400"
code=$(get "$A/upload" -b "$CJ" -H 'Content-Type: text/plain' --data-binary @"$TMP/up.html")
[ "$code" = 400 ]; ok $? "upload that is not a form: 400"
code=$(get "$A/upload")
[ "$code" = 405 ]; ok $? "GET /upload: 405"
code=$(get "$A/open?key=$t")
[ "$code" = 303 ] && [ "$(header Location)" = "/$t" ]
ok $? "the open box: /open?key=URI redirects to the document"
code=$(get "$A/open?key=CHK@nonsense")
[ "$code" = 400 ] && grep -q 'Not a key' "$TMP/b"
ok $? "the open box with a bad key: 400 and a page that says so"
# Hostile forms: each a clear 4xx, nothing left running.
head -c 5000000 /dev/zero | tr '\0' a | sed 's/^/token=/' > "$TMP/big.form"
t0=$SECONDS
code=$(get "$A/login" --data-binary @"$TMP/big.form" -H 'Content-Type: application/x-www-form-urlencoded')
[ "$code" = 403 ] && [ $((SECONDS - t0)) -lt 10 ]
ok $? "a login form of 5 MB: 403 within 10 s"
code=$(get "$A/upload" -b "$CJ" -F "csrf=<$TMP/big.form" -F "file=@$TMP/up.html")
[ "$code" = 403 ]; ok $? "an upload whose form token field is 5 MB: 403"
code=$(get "$A/upload" -b "$CJ" -H 'Content-Type: multipart/form-data' --data-binary @"$TMP/up.html")
[ "$code" = 400 ]; ok $? "multipart without a boundary: 400"
printf -- '--XX\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n' "$CSRF" > "$TMP/cut.form"
head -c 300000 /dev/urandom >> "$TMP/cut.form"
code=$(get "$A/upload" -b "$CJ" -H 'Content-Type: multipart/form-data; boundary=XX' --data-binary @"$TMP/cut.form")
active() { "$UMBRA" status --datadir "$N" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["puts_active"])'; }
for _ in $(seq 50); do [ "$(active)" = 0 ] && break; sleep 0.2; done
[ "$code" = 400 ] && [ "$(active)" = 0 ]
ok $? "an upload whose multipart body ends without its closing boundary: 400, no upload left active ($code)"
code=$(get "$A/")
[ "$code" = 200 ]; ok $? "after the hostile forms the status page is served"

code=$(get "$A/logout" -b "$CJ" -c "$CJ" -d "csrf=$CSRF")
get "$A/" -b "$CJ" > /dev/null
[ "$code" = 303 ] && ! grep -q 'action="/upload"' "$TMP/b"
ok $? "logout: 303, and the page offers no upload form any more"
code=$(get "$A/upload" -b "$CJ" -F "csrf=$CSRF" -F "file=@$TMP/up.html")
[ "$code" = 403 ]; ok $? "the old session's form token no longer uploads"

code=$(get "$A/CHK@nonsense")
[ "$code" = 400 ]; ok $? "GET /CHK@nonsense: 400"
[ "${t:4:1}" = A ] && c=B || c=A
code=$(get "$A/${t:0:4}$c${t:5}")
[ "$code" = 503 ] && grep -q 'no peers' "$TMP/b"
ok $? "GET of an unknown key, no peers to ask: 503 saying so, not 404 ($code)"
code=$(get "$A/$t" -H 'Host: attacker.example')
[ "$code" = 403 ]; ok $? "a document with a foreign Host: 403"
# ---- another site's pages (Sec-Fetch-Site, sent by every current browser) ----
code=$(get "$A/$t" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: no-cors' -H 'Sec-Fetch-Dest: image')
[ "$code" = 403 ] && grep -q 'another site may not load' "$TMP/b"
ok $? "another site's page loading a document (an image): 403"
code=$(get "$A/$t" -H 'Sec-Fetch-Site: same-site' -H 'Sec-Fetch-Mode: cors' -H 'Sec-Fetch-Dest: empty')
[ "$code" = 403 ]; ok $? "a fetch() from another port of the same host: 403"
code=$(get "$A/$t" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document')
[ "$code" = 403 ] && header Content-Type | grep -q '^text/html' &&
    grep -qF "<a href=\"/$t\">" "$TMP/b" && ! cmp -s "$TMP/b" "$TMP/notes.txt"
ok $? "a link from another site: a page that asks first, linking to the key here"
code=$(get "$A/$t" -H 'Sec-Fetch-Site: same-origin' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document')
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/notes.txt"
ok $? "... and that link, followed (same-origin): the document (the node's own, so no progress page)"
code=$(get "$A/$t" -H 'Sec-Fetch-Site: none' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document')
[ "$code" = 200 ] && cmp -s "$TMP/b" "$TMP/notes.txt"
ok $? "a key typed in the address bar (none): the document"
code=$(get "$A/" -X POST)
[ "$code" = 405 ]; ok $? "POST /: 405"

stop_node "$NODE_PID"; ok $? "node stops cleanly"
done_testing
