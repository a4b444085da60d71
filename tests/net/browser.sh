#!/bin/bash
# browser.sh - the gateway as a real browser sees it: headless Chromium
# opens the status page (at a desktop and a phone's width) and documents,
# and its own network log must show no request for any host but the
# gateway. A canary server on 127.0.0.2 counts what reaches it: pages
# point there, so a request that left would be seen from both sides.
# Screenshots are kept in tests/artefacts/ of the build tree.
#
# Everything runs in a network namespace of its own (unshare -n, as root)
# where only loopback exists, so nothing the browser tries can leave the
# machine even if a check failed. Skips with the reason where Chromium is
# not installed.
. "$(dirname "$0")/lib.sh"

CHROME=$(command -v chromium || command -v chromium-browser ||
    command -v google-chrome || true)
if [ -z "$CHROME" ]; then
	skip "the browser tests" "Chromium is not installed (apt-get install chromium)"
	done_testing
fi
if [ -z "${UMBRA_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	# lib.sh's trap would remove $TMP now: the child makes its own.
	trap - EXIT
	rm -rf "$TMP"
	exec unshare -n env UMBRA_IN_NETNS=1 bash "$0" "$@"
fi
if [ -n "${UMBRA_IN_NETNS:-}" ]; then
	ip link set lo up 2>/dev/null || python3 -c 'import socket' # lo may be up
	diag "in a network namespace of its own: only loopback exists"
else
	diag "no network namespace (needs root): on the host's loopback"
fi
ART=${TOP_BUILDDIR:-.}/tests/artefacts
mkdir -p "$ART"

N=$TMP/n
start_node "$N"; ok $? "node starts"
A=$(cat "$N/api")

# ---- the canary: any request it gets is one that left the gateway ----
python3 - "$TMP/canary.port" "$TMP/canary.log" "$TMP/probe.html" <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[2], "a").write(self.path + "\n")
        self.send_response(200)
        if self.path == "/page":	# the control page: reaches out
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b'<img src="/control.png">')
            return
        if self.path == "/probe":	# another site, loading from the gateway
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(open(sys.argv[3], "rb").read())
            return
        self.end_headers(); self.wfile.write(b"x")
    do_POST = do_GET
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.2", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 0.5
for _ in range(2400):	# at most 20 min; stopped by PID long before
    s.handle_request()
EOF
CANARY_PID=$!
PIDS="$PIDS $CANARY_PID"
for _ in $(seq 50); do [ -s "$TMP/canary.port" ] && break; sleep 0.1; done
C="127.0.0.2:$(cat "$TMP/canary.port")"
: > "$TMP/canary.log"
curl -s --max-time 5 "http://$C/selftest" > /dev/null
grep -q selftest "$TMP/canary.log"
ok $? "the canary server on $C answers and logs"
: > "$TMP/canary.log"

# browse NAME URL [WIDTH,HEIGHT]: loads URL in headless Chromium, with its
# network log in $TMP/NAME.netlog and a screenshot in $ART/NAME.png.
browse() {
	rm -rf "$TMP/profile"
	timeout 90 "$CHROME" --headless=new --no-sandbox --disable-gpu \
	    --no-first-run --no-default-browser-check \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --disable-extensions --disable-default-apps \
	    --disable-breakpad --disable-domain-reliability \
	    --disable-client-side-phishing-detection \
	    --disable-features=NetworkTimeServiceQuerying,AutofillServerCommunication,OptimizationHints,MediaRouter \
	    --metrics-recording-only --password-store=basic \
	    --use-mock-keychain --user-data-dir="$TMP/profile" \
	    --log-net-log="$TMP/$1.netlog" --net-log-capture-mode=Default \
	    --window-size="${3:-1024,1400}" \
	    --virtual-time-budget="${BUDGET:-5000}" \
	    --screenshot="$ART/$1.png" "$2" > "$TMP/$1.out" 2>&1
}

# requested NAME: the requests of NAME's network log, one per line as
# "INITIATOR URL" (whatever their outcome). The browser's own background
# requests (its updater, clock, accounts: nowhere to go in here) have the
# initiator "not an origin"; a page's have its origin.
requested() {
	python3 - "$TMP/$1.netlog" <<'EOF'
import json, sys
text = open(sys.argv[1]).read().rstrip()
try:
    log = json.loads(text)
except ValueError:			# a log cut at exit: close its events
    log = json.loads(text.rstrip(",") + "]}")
types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
seen = set()
for e in log.get("events", []):
    p = e.get("params") or {}
    if types.get(e.get("type")) == "URL_REQUEST_START_JOB" and "url" in p:
        seen.add((p.get("initiator", "-").replace(" ", "_"), p["url"]))
for i, u in sorted(seen):
    print(i, u)
EOF
}

# only_gateway NAME: every request of the page (or for the page) in
# NAME's log is for the gateway, and there was at least one.
only_gateway() {
	requested "$1" > "$TMP/$1.reqs" || return 1
	awk -v g="http://$A" '$1 == g || index($2, g "/") == 1' \
	    "$TMP/$1.reqs" > "$TMP/$1.page"
	awk -v g="http://$A" '$1 == g && index($2, g "/") != 1' \
	    "$TMP/$1.reqs" > "$TMP/$1.others"
	if [ -s "$TMP/$1.others" ]; then
		sed 's/^/# the page requested elsewhere: /' "$TMP/$1.others" |
		    head -20
		return 1
	fi
	[ -s "$TMP/$1.page" ]
}

# ---- the control: a page outside the gateway that does reach out ----
browse control "http://$C/page"
sleep 0.5
grep -q '^/control.png$' "$TMP/canary.log" && requested control |
    grep -q "^http://$C http://$C/control.png$"
ok $? "control: a page's image request reaches the canary and shows in the network log under the page's origin"
: > "$TMP/canary.log"

# dom NAME URL: the document as Chromium built it, after its scripts (if
# any had run), into $TMP/NAME.dom.
dom() {
	rm -rf "$TMP/profile"
	timeout 90 "$CHROME" --headless=new --no-sandbox --disable-gpu \
	    --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --disable-extensions \
	    --user-data-dir="$TMP/profile" \
	    --virtual-time-budget="${BUDGET:-5000}" \
	    --dump-dom "$2" > "$TMP/$1.dom" 2> "$TMP/$1.dom.err"
}

# ---- the status page ----
browse status "http://$A/"
[ -s "$ART/status.png" ]
ok $? "Chromium renders the status page (screenshot tests/artefacts/status.png)"
only_gateway status
ok $? "... and requests nothing but the gateway ($(wc -l < "$TMP/status.page") requests)"
browse status-phone "http://$A/" 390,844
[ -s "$ART/status-phone.png" ]
ok $? "the status page at a phone's width (tests/artefacts/status-phone.png)"

# ---- documents ----
printf 'plain words <img src="http://%s/from-text">\n' "$C" > "$TMP/notes.txt"
t=$("$UMBRA" put --datadir "$N" "$TMP/notes.txt" 2>/dev/null)
browse text "http://$A/$t"
only_gateway text && [ -s "$ART/text.png" ]
ok $? "a text document shows as text: its markup does nothing"

# A page full of ways out; until the HTML filter is in, it is a download.
cat > "$TMP/hostile.html" <<EOF
<!DOCTYPE html><html><head>
<meta http-equiv="refresh" content="0; url=http://$C/refresh">
<link rel="stylesheet" href="http://$C/style.css">
<link rel="prefetch" href="http://$C/prefetch">
<script src="http://$C/script.js"></script>
<style>@import url(http://$C/import.css); body { background: url(http://$C/bg.png) }</style>
<base href="http://$C/base/">
</head><body>
<h1 id="title">A hostile page</h1>
<img src="http://$C/img.png" srcset="http://$C/srcset.png 2x" onerror="fetch('http://$C/onerror')">
<iframe src="http://$C/iframe"></iframe>
<object data="http://$C/object"></object>
<embed src="http://$C/embed">
<video poster="http://$C/poster.png"><source src="http://$C/video.webm"></video>
<svg><image href="http://$C/svgimage"/><script>fetch('http://$C/svgscript')</script></svg>
<form action="http://$C/form"><input type="image" src="http://$C/input.png"></form>
<a href="http://$C/link" ping="http://$C/ping">a link</a>
<div style="background-image: url('http://$C/inline.png')">styled</div>
<script>fetch('http://$C/inline-script'); document.title = 'ran';</script>
<a href="javascript:fetch('http://$C/js-url')">js</a>
<a href="$t">another key</a>
</body></html>
EOF
h=$("$UMBRA" put --datadir "$N" --type text/html "$TMP/hostile.html" 2>/dev/null)
browse hostile "http://$A/$h"
only_gateway hostile
ok $? "a hostile HTML page: the browser requests nothing but the gateway"
sleep 1
[ ! -s "$TMP/canary.log" ]
ok $? "the canary saw no request at all"
sed 's/^/# canary got: /' "$TMP/canary.log" | head -20
dom hostile "http://$A/$h"
grep -q 'A hostile page' "$TMP/hostile.dom" && ! grep -qi '<script' "$TMP/hostile.dom" &&
    ! grep -q '<title>ran' "$TMP/hostile.dom"
ok $? "the page as the browser built it: its text is there, no script is, none ran"
grep -q "<a href=\"/$t\">another key</a>" "$TMP/hostile.dom"
ok $? "its link to another key points into the gateway"

# Another site's page may not load a document from the gateway (it
# could time what the node holds): the node refuses before it looks, so
# its count of gets stays as it was (the browser's own policy would
# hide the image from the page anyway, not the timing).
gets() {
	"$UMBRA" status --datadir "$N" --json 2>/dev/null |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"]["gets"])'
}
printf '<title>waiting</title><img src="http://%s/%s" onload="document.title=%s" onerror="document.title=%s">\n' \
    "$A" "$t" "'loaded'" "'refused'" > "$TMP/probe.html"
before=$(gets)
browse probe "http://$C/probe"
after=$(gets)
requested probe | grep -qF "http://$C http://$A/$t" && [ -n "$before" ] &&
    [ "$before" = "$after" ]
ok $? "another site's page loading a key: the browser asks, the node refuses it unread (gets $before, then $after)"

# ---- a long get: the progress page (node/prefetch.h) ----
# X inserts into S and stops; gateway G, linked to S, lacks the roots, so
# the browser's first visit of each key is always the progress page. A
# budget of 0.5 s of the page's time keeps its 1 s reload from firing.
GW_PID=$NODE_PID
start_node "$TMP/s" && S_PID=$NODE_PID &&
    start_node "$TMP/x" --peer "$(cat "$TMP/s/address")" && X_PID=$NODE_PID &&
    wait_until 20 linked "$TMP/x" 1
ok $? "nodes S and X start, X linked to S"
seq 1 200000 | sed 's/^/line /' > "$TMP/long.txt"
l1=$("$UMBRA" put --datadir "$TMP/x" "${DIRECT[@]}" "$TMP/long.txt" 2>/dev/null)
cp "$TMP/long.txt" "$TMP/long2.txt"; echo end >> "$TMP/long2.txt"
l2=$("$UMBRA" put --datadir "$TMP/x" "${DIRECT[@]}" "$TMP/long2.txt" 2>/dev/null)
stop_node "$X_PID" && [ -n "$l1" ] && [ -n "$l2" ]
ok $? "X inserts two text documents of 2.6 MiB into S, and stops"
start_node "$TMP/g" --peer "$(cat "$TMP/s/address")" && G_PID=$NODE_PID &&
    wait_until 20 linked "$TMP/g" 1
ok $? "gateway G starts, linked to S"
GA=$(cat "$TMP/g/api")
BUDGET=500 dom progress "http://$GA/$l1?hops=0&no_anonymity=1"
grep -q '<h1>Fetching</h1>' "$TMP/progress.dom" &&
    grep -q '<progress' "$TMP/progress.dom" &&
    grep -q 'http-equiv="refresh"' "$TMP/progress.dom"
ok $? "Chromium opening a key the gateway lacks is shown the progress page"
SAVE_A=$A; A=$GA
BUDGET=500 browse progress "http://$GA/$l2?hops=0&no_anonymity=1"
only_gateway progress && [ -s "$ART/progress.png" ]
ok $? "the progress page requests nothing but the gateway (tests/artefacts/progress.png)"
A=$SAVE_A
for _ in $(seq 100); do
	curl -s --max-time 10 -H 'Sec-Fetch-Dest: document' \
	    "http://$GA/$l1?hops=0&no_anonymity=1" | grep -q '^line 1$' && break
	sleep 0.3
done
dom progress-done "http://$GA/$l1?hops=0&no_anonymity=1"
grep -q 'line 200000' "$TMP/progress-done.dom" && ! grep -q '<progress' "$TMP/progress-done.dom"
ok $? "once it is all fetched, the same visit shows the document itself"
stop_node "$G_PID"; ok $? "G stops cleanly"
stop_node "$S_PID"; ok $? "S stops cleanly"
check_node_log "$TMP/g.log"
NODE_PID=$GW_PID

stop_pid "$CANARY_PID"
stop_node "$NODE_PID"; ok $? "node stops cleanly"
check_node_log "$N.log"
done_testing
