# stop_pid.sh - sourced by the network tests and the benchmark.

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
