#!/bin/sh
# long.sh - make fuzz: runs each fuzz target given (tests/fuzz/NAME.fuzz)
# through run.sh for FUZZ_SECONDS (and at most FUZZ_RUNS executions, if
# set), FUZZ_JOBS at a time, then prints one line per target (executions,
# time, executions per second, corpus growth) and exits non-zero if any
# target failed, naming its crash artifact.
#
# New corpus entries, logs and crash artifacts stay in FUZZ_WORKDIR/NAME/
# (default: a new directory under $TMPDIR, named at the end); give the
# same FUZZ_WORKDIR again to go on from that corpus. The checked-in
# corpus is written only with FUZZ_MERGE=1 (see run.sh).
set -u
here=$(dirname "$0")
jobs=${FUZZ_JOBS:-1}
case $jobs in ''|*[!0-9]*|0)
	echo "make fuzz: FUZZ_JOBS must be a number >= 1" >&2
	exit 2 ;;
esac
if [ -z "${FUZZ_WORKDIR:-}" ]; then
	FUZZ_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/umbra-fuzz.XXXXXX") || exit 2
fi
export FUZZ_WORKDIR FUZZ_MODE=libfuzzer
mkdir -p "$FUZZ_WORKDIR" || exit 2
echo "make fuzz: $# targets for ${FUZZ_SECONDS:-10} s" \
    "${FUZZ_RUNS:+or $FUZZ_RUNS executions }each, $jobs at a time," \
    "in $FUZZ_WORKDIR"

# Each lane takes the next target nobody has claimed (mkdir is atomic).
claims=$(mktemp -d "${TMPDIR:-/tmp}/umbra-fuzz-claims.XXXXXX") || exit 2
lane=0
while [ "$lane" -lt "$jobs" ]; do
	(
		for t in "$@"; do
			name=$(basename "$t" .fuzz)
			mkdir "$claims/$name" 2>/dev/null || continue
			echo "  $name: running"
			sh "$here/run.sh" "$t" > "$FUZZ_WORKDIR/$name.tap" 2>&1
		done
	) &
	lane=$((lane + 1))
done
wait
rm -rf "$claims"

fail=0
echo
for t in "$@"; do
	name=$(basename "$t" .fuzz)
	tap=$FUZZ_WORKDIR/$name.tap
	if grep -q '^ok ' "$tap" 2>/dev/null; then
		sed -n 's/^ok 1 - fuzz /  ok    /p' "$tap"
	else
		fail=1
		grep -q '^not ok ' "$tap" 2>/dev/null &&
		    sed -n 's/^not ok 1 - fuzz /  FAIL  /p' "$tap" ||
		    echo "  FAIL  $name: no result"
	fi
	grep '^#' "$tap" 2>/dev/null
done
echo "corpus, logs and artifacts: $FUZZ_WORKDIR"
exit $fail
