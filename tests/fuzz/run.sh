#!/bin/bash
# run.sh - runs one fuzz target for make check; prints TAP.
#
# Called by automake with tests/fuzz/NAME.fuzz (a marker file). Built with
# --enable-fuzz, the target is a libFuzzer binary and runs for
# FUZZ_SECONDS on a scratch copy of its seed corpus (the checked-in corpus
# is never written); otherwise it replays the seed corpus once.
set -u
name=$(basename "$1" .fuzz)
bin=$TOP_BUILDDIR/tests/fuzz/fuzz_$name
seeds=$TOP_SRCDIR/tests/fuzz/corpus/$name

if [ "${FUZZ_MODE:-replay}" != libfuzzer ]; then
	exec "$bin" "$seeds"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/umbra-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp "$seeds"/* "$work/corpus/" 2>/dev/null
"$bin" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=1024 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" > "$work/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -eq 0 ]; then
	echo "ok 1 - fuzz $name: ${execs:-?} executions in ${FUZZ_SECONDS:-10} s"
else
	echo "not ok 1 - fuzz $name: libFuzzer exit $rc"
	tail -n 40 "$work/log" | sed 's/^/# /'
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
		[ -e "$a" ] && echo "# artifact (base64): $(base64 -w0 "$a" | head -c 2000)"
	done
fi
echo "1..1"
exit $rc
