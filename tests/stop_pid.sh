# stop_pid.sh - sourced by the network tests, the benchmark and the soak.

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL; returns the
# process's exit status (99 if it had to be killed).
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 99
	fi
	wait "$pid" 2>/dev/null
}

# wait_others_gone SECONDS PID...: waits (SECONDS at most) for processes
# that are not our children (a testnet's nodes) to be gone; a PID counts
# while its command line names $TMP, so a reused PID does not. It never
# signals them: the testnet stops them, or their PR_SET_PDEATHSIG does
# if it was killed.
wait_others_gone() {
	local p left n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		left=""
		for p in "$@"; do
			grep -qs "$TMP" "/proc/$p/cmdline" && left=1
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	return 1
}
