# shellcheck shell=bash disable=SC2034
# (SC2034: the NETNS_ variables and arrays are for the tests that source
# this file.)
#
# netns.sh - a test network of network namespaces (sourced, bash, after
# lib.sh or in its place: it sources lib.sh itself).
#
# Each node runs the real `umbra node` with its defaults (peer links on
# 0.0.0.0:9479, API on 127.0.0.1:9480) in a namespace of its own, as on a
# machine of its own: its own loopback, one interface (eth0, a veth pair)
# into a bridge, one address, no default route. The bridge lives in a
# namespace of its own too, with no uplink, so nothing in the test network
# has a route out of it and nothing touches the root namespace. Every line
# (both directions of each node's veth) is limited by tc tbf to NETNS_RATE.
# This kernel has no netem: no delay, jitter or loss is emulated, so every
# link is a lossless LAN of sub-millisecond latency at a limited rate.
#
# Addresses. Node I gets host (I-1)/K+1 of network (I-1)%K of NETNS_NETS
# (K networks), all reachable on the one bridge (each namespace has an
# on-link route to each). Every address is in 198.18.0.0/15 (RFC 2544's
# benchmarking range, never routed on the Internet): by default the
# nodes are spread over the sixteen /24s 198.18.0-15.0/24, which the
# node counts as sixteen networks there (an origin takes no two relays
# of one network for a path: node/paths.c, paths_net_of()), and the LANs
# behind NAT routers are the /24s of 198.19.0.0/16 (router R:
# 198.19.R.0/24).
#
# NAT. netns_add_nat_node puts a node behind a router namespace with two
# legs (the bridge, as "wan", and a LAN bridge "lan" in the router's own
# namespace) that masquerades the LAN's connections out of wan (nftables)
# and drops unsolicited inbound ones, as a home router does. This kernel
# (CONFIG_NFT_MASQ, CONFIG_NF_NAT) masquerades inside a namespace; where
# a kernel cannot, NETNS_NAT=firewall (or a failed masquerade ruleset)
# emulates "unreachable" instead: a plain node whose namespace refuses
# inbound connections to its port 9479 (a TCP reset), saying so with diag.
#
# Processes. netns_start_node runs the node through `ip netns exec`, which
# execs it: $! is the node's own PID, kept in PIDS (lib.sh stops them) and
# NPID[I]. On any exit netns_cleanup stops them by PID, kills whatever
# still runs in a namespace of this run (`ip netns pids`, by PID) and
# deletes the namespaces, which takes their veths and bridges with them.
# Namespace names carry this run's prefix NETNS_PREFIX (um$$-), so runs
# never collide; namespaces left by a run that was killed outright (its
# PID gone) are swept at netns_setup.
#
# Functions that record state (netns_setup, netns_add_node,
# netns_add_nat_node, netns_start_node, netns_move_address,
# netns_kill_node, netns_stop_node) must run in the test's own shell, not
# in $(...).
#
# Tests that source this call netns_check first: it prints the reason and
# returns 1 (the test then skips) when not root or without `ip netns`.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NETNS_PREFIX=${NETNS_PREFIX:-um$$-}
NETNS_RATE=${NETNS_RATE:-100mbit}
NETNS_BURST=${NETNS_BURST:-64kb}
NETNS_NETS=${NETNS_NETS:-$(for k in $(seq 0 15); do printf '198.18.%d.0/24 ' "$k"; done)}
NETNS_NAT=${NETNS_NAT:-masquerade}
NETNS_PORT=9479			# the node's default peer port
NETNS_BR=${NETNS_PREFIX}br	# the bridge's namespace
read -r -a NETNS_NET <<< "$NETNS_NETS"
declare -a NETNS_ADDR NETNS_ROUTER NETNS_ROUTER_OF NPID NETNS_MOVES
NETNS_NAT_MODE=""		# masquerade or firewall, once known

# ---- addresses ----

# netns_ip2int A.B.C.D, netns_int2ip N: IPv4 address <-> integer.
netns_ip2int() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
}
netns_int2ip() {
	echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"
}

# netns_host K H: host H of network K (0-based) of NETNS_NETS.
netns_host() {
	local net=${NETNS_NET[$1]}
	netns_int2ip $(($(netns_ip2int "${net%/*}") + $2))
}

# netns_addr_of I: the address node I is given at first (no side effect).
# Hosts 1-179 of each network are nodes, 180-219 moved nodes, 220-254
# NAT routers.
netns_addr_of() {
	local k=${#NETNS_NET[@]}
	netns_host $((($1 - 1) % k)) $((($1 - 1) / k + 1))
}

# netns_ns I: node I's namespace; netns_dir I: its home directory, whose
# data/umbra is its datadir (the default, from XDG_DATA_HOME).
netns_ns() { echo "${NETNS_PREFIX}$1"; }
netns_dir() { echo "$TMP/n$1"; }
netns_datadir() { echo "$TMP/n$1/data/umbra"; }

# ---- checks and setup ----

# netns_check: 0 if this machine can run the network; otherwise prints
# why and returns 1.
netns_check() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root: network namespaces need root"
		return 1
	fi
	if ! command -v ip > /dev/null || ! command -v tc > /dev/null; then
		echo "no ip or tc (iproute2)"
		return 1
	fi
	if ! ip netns add "${NETNS_PREFIX}probe" 2> /dev/null; then
		echo "ip netns add fails: no network namespaces here"
		return 1
	fi
	if ! ip -n "${NETNS_PREFIX}probe" link add b0 type bridge 2> /dev/null ||
	    ! ip link add p0 netns "${NETNS_PREFIX}probe" type veth peer \
	    name p1 netns "${NETNS_PREFIX}probe" 2> /dev/null ||
	    ! tc -n "${NETNS_PREFIX}probe" qdisc add dev p0 root tbf \
	    rate "$NETNS_RATE" burst "$NETNS_BURST" latency 50ms 2> /dev/null; then
		ip netns del "${NETNS_PREFIX}probe" 2> /dev/null
		echo "no bridge, veth or tc tbf in a namespace"
		return 1
	fi
	ip netns del "${NETNS_PREFIX}probe"
	return 0
}

# netns_sweep_stale: deletes namespaces um<PID>-* of runs whose PID is
# gone (a run killed by SIGKILL cannot clean up), killing what runs in
# them.
netns_sweep_stale() {
	local ns pid p
	for ns in $(ip netns list 2> /dev/null | awk '{ print $1 }'); do
		case $ns in um[0-9]*-*) ;; *) continue ;; esac
		pid=${ns#um}
		pid=${pid%%-*}
		[ "$pid" = "$$" ] && continue
		kill -0 "$pid" 2> /dev/null && continue
		for p in $(ip netns pids "$ns" 2> /dev/null); do
			kill -KILL "$p" 2> /dev/null
		done
		ip netns del "$ns" 2> /dev/null
	done
}

# netns_setup [N]: makes the bridge (in its own namespace) and, with N,
# nodes 1..N (not started).
netns_setup() {
	local i
	netns_sweep_stale
	ip netns add "$NETNS_BR" || return 1
	ip -n "$NETNS_BR" link set lo up
	ip -n "$NETNS_BR" link add br0 type bridge || return 1
	ip -n "$NETNS_BR" link set br0 up
	for i in $(seq "${1:-0}"); do
		netns_add_node "$i" > /dev/null || return 1
	done
}

# netns_neigh_room: makes room in the kernel's neighbour (ARP) table,
# one for all namespaces and bounded in the root one only
# (net.ipv4.neigh.default.gc_thresh3, 1024 entries by default). Each
# namespace keeps an entry for each node it talks to, up to one per node,
# so 100 nodes need about 10 000: past the bound the kernel logs
# "neighbor table overflow!" and new connections time out unanswered.
# Raised (never lowered) for NETNS_COUNT namespaces; netns_cleanup puts
# the values found back unless another run's namespaces are still there.
NETNS_COUNT=0
NETNS_NEIGH_SAVED=""
netns_neigh_room() {
	local d=/proc/sys/net/ipv4/neigh/default need t3
	NETNS_COUNT=$((NETNS_COUNT + 1))
	need=$((2 * NETNS_COUNT * NETNS_COUNT))
	t3=$(cat "$d/gc_thresh3" 2> /dev/null) || return 0
	[ "$need" -le "$t3" ] && return 0
	[ -n "$NETNS_NEIGH_SAVED" ] ||
	    NETNS_NEIGH_SAVED="$(cat "$d/gc_thresh1") $(cat "$d/gc_thresh2") $t3"
	need=$((need < 4096 ? 4096 : need * 2))	# not once per node
	echo "$need" > "$d/gc_thresh3"
	echo $((need / 2)) > "$d/gc_thresh2"
	echo $((need / 4)) > "$d/gc_thresh1"
}

# netns_limit NS DEV: DEV's egress in NS limited to NETNS_RATE.
netns_limit() {
	tc -n "$1" qdisc replace dev "$2" root tbf rate "$NETNS_RATE" \
	    burst "$NETNS_BURST" latency 50ms
}

# netns_routes NS DEV [VIA]: routes from NS to every network of NETS,
# on-link over DEV or via the router VIA; no default route.
netns_routes() {
	local net
	for net in "${NETNS_NET[@]}"; do
		if [ -n "${3:-}" ]; then
			ip -n "$1" route replace "$net" via "$3" dev "$2"
		else
			ip -n "$1" route replace "$net" dev "$2" scope link
		fi
	done
}

# netns_new_ns I: node I's namespace, loopback up, and its home.
netns_new_ns() {
	local ns
	ns=$(netns_ns "$1")
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	mkdir -p "$(netns_dir "$1")/data"
	netns_neigh_room
}

# netns_add_node I: node I's namespace, with eth0 into the bridge at its
# address (netns_addr_of I, /32, on-link routes), both directions of the
# line limited; prints the address.
netns_add_node() {
	local i=$1 ns addr
	ns=$(netns_ns "$i")
	addr=$(netns_addr_of "$i")
	netns_new_ns "$i" || return 1
	ip link add eth0 netns "$ns" type veth peer name "v$i" \
	    netns "$NETNS_BR" || return 1
	ip -n "$NETNS_BR" link set "v$i" master br0 up || return 1
	ip -n "$ns" addr add "$addr/32" dev eth0 || return 1
	ip -n "$ns" link set eth0 up
	netns_routes "$ns" eth0 || return 1
	netns_limit "$ns" eth0 && netns_limit "$NETNS_BR" "v$i" || return 1
	NETNS_ADDR[i]=$addr
	echo "$addr"
}

# netns_add_router R: router R's namespace (made once): wan into the
# bridge at a public address, a bridge "lan" at 198.19.R.1/24, forwarding
# on, and the NAT ruleset. Sets NETNS_NAT_MODE to masquerade, or to
# firewall if the ruleset cannot be loaded.
netns_add_router() {
	local r=$1 ns k wan
	ns=${NETNS_PREFIX}r$r
	ip netns list | grep -q "^$ns\b" && return 0
	k=${#NETNS_NET[@]}
	wan=$(netns_host $(((r - 1) % k)) $((254 - (r - 1) / k)))
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	netns_neigh_room
	ip link add wan netns "$ns" type veth peer name "r$r" \
	    netns "$NETNS_BR" || return 1
	ip -n "$NETNS_BR" link set "r$r" master br0 up
	ip -n "$ns" addr add "$wan/32" dev wan
	ip -n "$ns" link set wan up
	netns_routes "$ns" wan
	ip -n "$ns" link add lan type bridge
	ip -n "$ns" addr add "198.19.$r.1/24" dev lan
	ip -n "$ns" link set lan up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	# LAN out through wan under the router's address; inbound only what
	# answers a connection from inside (new inbound ones are dropped, so a
	# dial-back to the node's public address times out, as at home).
	if command -v nft > /dev/null && ip netns exec "$ns" nft -f - <<-EOF
	table ip umbra_nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "wan" masquerade
		}
		chain fw {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			iifname "lan" oifname "wan" accept
		}
		chain in {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state new drop
		}
	}
	EOF
	then
		NETNS_ROUTER[r]=$wan
		return 0
	fi
	ip netns del "$ns"
	return 2
}

# netns_add_firewalled I: node I as a plain node whose namespace refuses
# inbound connections to its peer port (TCP reset), for kernels that
# cannot masquerade in a namespace.
netns_add_firewalled() {
	local ns
	ns=$(netns_ns "$1")
	netns_add_node "$1" || return 1
	ip netns exec "$ns" nft -f - > /dev/null <<-EOF
	table inet umbra_fw {
		chain in {
			type filter hook input priority filter; policy accept;
			iifname "eth0" tcp dport $NETNS_PORT ct state new reject with tcp reset
		}
	}
	EOF
}

# netns_add_nat_node I [R]: node I behind NAT router R (default 1), on
# R's LAN at 198.19.R.(I % 250 + 2) with routes to every network via the
# router; prints its (LAN) address. If masquerading cannot work here, a
# firewalled node instead (see the top of this file).
netns_add_nat_node() {
	local i=$1 r=${2:-1} ns addr rc
	if [ "$NETNS_NAT" != firewall ]; then
		netns_add_router "$r"
		rc=$?
		[ $rc -eq 1 ] && return 1
		if [ $rc -eq 2 ]; then
			echo "# netns: no NAT ruleset in a namespace here; node $i is firewalled instead" >&2
			NETNS_NAT=firewall
		fi
	fi
	if [ "$NETNS_NAT" = firewall ]; then
		NETNS_NAT_MODE=firewall
		netns_add_firewalled "$i"
		return
	fi
	NETNS_NAT_MODE=masquerade
	ns=$(netns_ns "$i")
	addr=198.19.$r.$((i % 250 + 2))
	netns_new_ns "$i" || return 1
	ip link add eth0 netns "$ns" type veth peer name "l$i" \
	    netns "${NETNS_PREFIX}r$r" || return 1
	ip -n "${NETNS_PREFIX}r$r" link set "l$i" master lan up || return 1
	ip -n "$ns" addr add "$addr/24" dev eth0 || return 1
	ip -n "$ns" link set eth0 up
	netns_routes "$ns" eth0 "198.19.$r.1" || return 1
	netns_limit "$ns" eth0 && netns_limit "${NETNS_PREFIX}r$r" "l$i" ||
	    return 1
	NETNS_ADDR[i]=$addr
	NETNS_ROUTER_OF[i]=$r
	echo "$addr"
}

# ---- running things in a node's namespace ----

# netns_exec I CMD...: runs CMD in node I's namespace, with HOME and
# XDG_DATA_HOME of node I (so umbra finds its datadir with no flag).
netns_exec() {
	local i=$1 d
	shift
	d=$(netns_dir "$i")
	ip netns exec "$(netns_ns "$i")" env HOME="$d" XDG_DATA_HOME="$d/data" \
	    "$@"
}

# netns_umbra I ARGS...: the umbra command line in node I's namespace,
# bounded by UMBRA_TIMEOUT seconds (default 150; exit 124 when it ran
# out): `UMBRA_TIMEOUT=35 netns_umbra 2 get URI`.
netns_umbra() {
	local i=$1
	shift
	netns_exec "$i" timeout "${UMBRA_TIMEOUT:-150}" "$UMBRA" "$@"
}

# netns_peer I: node I's --peer line, ADDRESS:9479#PUBKEY (the key from
# its DIR/address).
netns_peer() {
	local key
	key=$(sed 's/.*#//' "$(netns_datadir "$1")/address" 2> /dev/null)
	[ -n "$key" ] || return 1
	echo "${NETNS_ADDR[$1]}:$NETNS_PORT#$key"
}

# netns_identity I: node I's identity (its public key).
netns_identity() { sed 's/.*#//' "$(netns_datadir "$1")/address" 2> /dev/null; }

# netns_start_node I [ARGS...]: starts `umbra node [ARGS...]` in node I's
# namespace (its log: $TMP/nI.log, appended) and waits (10 s) for its
# DIR/api, unless NETNS_NOWAIT is set (then netns_wait_ready I does).
# Sets NODE_PID and NPID[I]. Pass the peers as ARGS:
# --peer "$(netns_peer J)".
netns_start_node() {
	local i=$1 d
	shift
	d=$(netns_dir "$i")
	rm -f "$d/data/umbra/api"
	# A simple command, not netns_exec or netns_umbra: a function put in
	# the background runs in a subshell of its own (whose PID $! would
	# be), and timeout(1) would stand between us and the node; ip netns
	# exec and env exec, so $! is the node and its exit status its own.
	ip netns exec "$(netns_ns "$i")" env HOME="$d" XDG_DATA_HOME="$d/data" \
	    "$UMBRA" node "$@" 2>> "$TMP/n$i.log" &
	NODE_PID=$!
	NPID[i]=$NODE_PID
	PIDS="$PIDS $NODE_PID"
	[ -n "${NETNS_NOWAIT:-}" ] || netns_wait_ready "$i"
}

# netns_wait_ready I: waits (10 s) for node I's DIR/api and DIR/address;
# non-zero if they do not come or the node exits.
netns_wait_ready() {
	local dd
	dd=$(netns_datadir "$1")
	for _ in $(seq 100); do
		[ -s "$dd/api" ] && [ -s "$dd/address" ] && return 0
		netns_alive "$1" || return 1
		sleep 0.1
	done
	return 1
}

# netns_alive I: node I's process runs.
netns_alive() { [ -n "${NPID[$1]:-}" ] && kill -0 "${NPID[$1]}" 2> /dev/null; }

# netns_kill_node I [SIGNAL]: kills node I (default SIGKILL) and reaps it.
netns_kill_node() {
	local pid=${NPID[$1]:-}
	[ -n "$pid" ] || return 1
	kill -"${2:-KILL}" "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	# Reaped: the kernel may give its PID to another process, which no
	# cleanup must then signal.
	PIDS=$(printf ' %s ' $PIDS | sed "s/ $pid / /g")
	NPID[$1]=""
	return 0
}

# netns_stop_node I: SIGTERM, at most 10 s; returns the node's exit status.
netns_stop_node() { stop_pid "${NPID[$1]:-}"; }

# netns_status I: node I's `umbra status --json` into $TMP/stI.json (a
# copy kept as $TMP/samples/stI.N.json); non-zero if it does not answer.
NETNS_SAMPLE=0
netns_status() {
	local out=$TMP/st$1.json
	mkdir -p "$TMP/samples"
	netns_exec "$1" timeout 10 "$UMBRA" status --json > "$out" 2> /dev/null ||
	    return 1
	NETNS_SAMPLE=$((NETNS_SAMPLE + 1))
	cp "$out" "$TMP/samples/st$1.$NETNS_SAMPLE.json"
}

# netns_curl I PATH [CURL-ARGS...]: an API request inside node I's
# namespace to its default API, with the token from its datadir.
netns_curl() {
	local i=$1 path=$2 tok
	shift 2
	tok=$(cat "$(netns_datadir "$i")/api.token") || return 1
	netns_exec "$i" curl -sS --max-time 30 \
	    -H "Authorization: Bearer $tok" "$@" "http://127.0.0.1:9480$path"
}

# netns_move_address I [NEWADDR]: moves node I to NEWADDR (default: a
# free host of the next network of NETS, a laptop moving networks): the
# new address first, then the old one removed (the routes stay), and the
# bridge's record of the port flushed. Sets NETNS_ADDR[I]; prints it.
netns_move_address() {
	local i=$1 new=${2:-} ns old k m
	ns=$(netns_ns "$i")
	old=${NETNS_ADDR[i]}
	if [ -z "$new" ]; then
		k=${#NETNS_NET[@]}
		m=${NETNS_MOVES[i]:-0}
		NETNS_MOVES[i]=$((m + 1))
		new=$(netns_host $(((i + m) % k)) $((180 + (i * 4 + m) % 40)))
	fi
	ip -n "$ns" addr add "$new/32" dev eth0 || return 1
	ip -n "$ns" addr del "$old/32" dev eth0 || return 1
	netns_routes "$ns" eth0
	NETNS_ADDR[i]=$new
	echo "$new"
}

# ---- cleanup ----

# netns_cleanup: every process of the test stopped (PIDS, then whatever
# still runs in one of this run's namespaces), every namespace deleted.
netns_cleanup() {
	local ns p t1 t2 t3
	stop_all
	for ns in $(ip netns list 2> /dev/null | awk '{ print $1 }'); do
		case $ns in "$NETNS_PREFIX"*) ;; *) continue ;; esac
		for p in $(ip netns pids "$ns" 2> /dev/null); do
			kill -KILL "$p" 2> /dev/null
		done
		ip netns del "$ns" 2> /dev/null
	done
	PIDS=""
	if [ -n "$NETNS_NEIGH_SAVED" ] &&
	    ! ip netns list 2> /dev/null | grep -q '^um[0-9]*-'; then
		read -r t1 t2 t3 <<< "$NETNS_NEIGH_SAVED"
		echo "$t1" > /proc/sys/net/ipv4/neigh/default/gc_thresh1
		echo "$t2" > /proc/sys/net/ipv4/neigh/default/gc_thresh2
		echo "$t3" > /proc/sys/net/ipv4/neigh/default/gc_thresh3
		NETNS_NEIGH_SAVED=""
	fi
}
trap 'netns_cleanup; cleanup' EXIT
# lib.sh's trap exits on INT and TERM; a closed pipe or terminal (a
# reader of our output that went away) must run the cleanup as well.
trap 'exit 1' HUP PIPE INT TERM
