#!/bin/bash
# demo.sh - the README's first command ends here: a node in a temporary
# datadir, a document inserted and read back by its key, bytes compared.
# Runs from the build directory (where ./umbra is) or with UMBRA set.
set -eu
UMBRA=${UMBRA:-./umbra}
dir=$(mktemp -d "${TMPDIR:-/tmp}/umbra-demo.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting a node in $dir/node"
"$UMBRA" node --datadir "$dir/node" --api 127.0.0.1:0 --listen 127.0.0.1:0 \
    --log-level warn &
pid=$!
for _ in $(seq 100); do
	[ -s "$dir/node/api" ] && break
	sleep 0.1
done
[ -s "$dir/node/api" ] || { echo "the node did not start" >&2; exit 1; }
"$UMBRA" status --datadir "$dir/node"

doc="$dir/hello.txt"
{
	echo "Hello from Umbra, $(date -u +%Y-%m-%dT%H:%M:%SZ)."
	head -c 200000 /dev/urandom | od -An -tx1
} > "$doc"
echo "== inserting $(wc -c < "$doc") bytes"
uri=$("$UMBRA" put --datadir "$dir/node" "$doc")
echo "key: $uri"
echo "== fetching it back by its key"
"$UMBRA" get --datadir "$dir/node" "$uri" -o "$dir/fetched"
if cmp "$doc" "$dir/fetched"; then
	echo "== OK: the bytes fetched are the bytes inserted"
else
	echo "== FAILED: the bytes differ" >&2
	exit 1
fi
