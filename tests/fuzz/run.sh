#!/bin/sh
# run.sh - runs one fuzz target; prints TAP.
#
# Called by automake with tests/fuzz/NAME.fuzz (a marker file), and by
# long.sh (make fuzz) the same way. Built with --enable-fuzz
# (FUZZ_MODE=libfuzzer), the target is a libFuzzer binary and runs for
# FUZZ_SECONDS (and at most FUZZ_RUNS executions, if set) on a copy of
# its seed corpus; otherwise it replays the seed corpus once.
#
# The checked-in corpus is never written, except by FUZZ_MERGE=1: then,
# after a clean run, inputs that add coverage are merged into it
# (libFuzzer -merge=1). Without FUZZ_WORKDIR the copy lives in a
# temporary directory removed at the end (make check); with it, in
# FUZZ_WORKDIR/NAME/ (corpus/, log, crash artifacts), which is kept, and
# a corpus already there is fuzzed further (earlier artifacts are moved
# to earlier/).
set -u
name=$(basename "$1" .fuzz)
bin=$TOP_BUILDDIR/tests/fuzz/fuzz_$name
seeds=$TOP_SRCDIR/tests/fuzz/corpus/$name
secs=${FUZZ_SECONDS:-10}

if [ "${FUZZ_MODE:-replay}" != libfuzzer ]; then
	exec "$bin" "$seeds"
fi

if [ -n "${FUZZ_WORKDIR:-}" ]; then
	work=$FUZZ_WORKDIR/$name
	mkdir -p "$work/corpus" "$work/earlier" || exit 99
	# Artifacts of an earlier run are kept aside, not reported again.
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
	    "$work"/oom-*; do
		[ -e "$a" ] && mv "$a" "$work/earlier/"
	done
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/umbra-fuzz.XXXXXX") || exit 99
	trap 'rm -rf "$work"' EXIT
	mkdir "$work/corpus"
fi
cp "$seeds"/* "$work/corpus/" 2>/dev/null
before=$(ls "$work/corpus" | wc -l)
runs=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
start=$(date +%s)
# $runs unquoted: empty, or one word.
"$bin" -max_total_time="$secs" $runs -timeout=10 \
    -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" > "$work/log" 2>&1
rc=$?
took=$(($(date +%s) - start))
after=$(ls "$work/corpus" | wc -l)
final() { sed -n "s/^stat::$1: *//p" "$work/log"; }
execs=$(final number_of_executed_units)
rate=$(final average_exec_per_sec)
if [ $rc -eq 0 ]; then
	msg="${execs:-?} executions in $took s (${rate:-?}/s)"
	[ -n "${FUZZ_WORKDIR:-}" ] &&
	    msg="$msg, corpus $after ($((after - before)) new)"
	echo "ok 1 - fuzz $name: $msg"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		n=$(ls "$seeds" | wc -l)
		"$bin" -merge=1 -max_len=65536 -rss_limit_mb=1024 \
		    "$seeds" "$work/corpus" > "$work/merge.log" 2>&1 ||
		    echo "# merge failed: see $work/merge.log"
		echo "# merged $(($(ls "$seeds" | wc -l) - n)) inputs into $seeds"
	fi
else
	echo "not ok 1 - fuzz $name: libFuzzer exit $rc after $took s," \
	    "${execs:-?} executions"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$work/log" |
	    head -n 5 | sed 's/^/# /'
	tail -n 40 "$work/log" | sed 's/^/# /'
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
	    "$work"/oom-*; do
		[ -e "$a" ] || continue
		[ -n "${FUZZ_WORKDIR:-}" ] && echo "# artifact: $a" &&
		    echo "#   replay: $bin $a"
		echo "# artifact (base64): $(base64 -w0 "$a" | head -c 2000)"
	done
fi
echo "1..1"
exit $rc
