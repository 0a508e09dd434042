#!/bin/bash
# One scale measurement: N cloud daemons, each in a network namespace of
# its own (cvs<pid>-nI), one veth pair per edge of a graph, each node
# announcing one address (1/<I as 4 hex digits>/16) through a cloudcat.
#
#   SCALE_GRAPH=random|ring|grid  SCALE_N=100  bash tests/scale/scale.sh
#
# random: a random tree, an edge more for each leaf, then random edges
# to a mean degree of 3 (SCALE_SEED); ring: I - I+1; grid: rows x
# columns, as square as N allows. All daemons start at once, in order
# 1..N, their gates already waiting; on each edge the later node connects to the
# earlier one. Default timers (the daemons' options are only their
# identity, one listen, their connects, a gate and a control socket;
# SCALE_CFG adds lines).
#
# Measured, in this order:
#   conv_ms     last daemon started -> every node has a route to every
#               node's address, and the next hops, followed node by
#               node, lead there (snapshots through the control sockets)
#   conv_first_ms  the same from the first daemon's start: the start loop
#               takes 0.7-14 s at N = 100, and the mesh converges while
#               it runs, so conv_ms alone moves with the harness's speed
#   ctl_* wire_* cpu_* rss_* hwm_*   over SCALE_IDLE s of idle, from
#               SCALE_SETTLE s after convergence: control bytes each node
#               sent on its links (B/s), bytes its veths sent (B/s),
#               CPU of each daemon (% of a core), VmRSS, VmHWM, PSS and
#               USS (private pages) (kB)
#   reroute_ms  the busiest node (next hop of the most routes) is
#               SIGKILLed -> every survivor again reaches every survivor
#               still connected to it and at most SCALE_MAX_DIST (64,
#               route_max_dist) hops away (cut_off, far: how many not)
# The figures go to SCALE_OUT (key=value) and the per-node idle table to
# SCALE_OUT.nodes. With SCALE_ASSERT=1 the run fails when a figure
# misses its aim (scale_aims below), but for the aims named in
# SCALE_KNOWN_MISSED (e.g. "ctl"), which are only reported; without, it
# only reports.
# Exit codes as tests/net: 0 pass, 1 fail, 77 skip, 99 hard error.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
PFX=cvs$$-
CLOUDCAT=${CLOUDCAT:-$top_builddir/gates/cloudcat}
MEASURE=$top_srcdir/tests/scale/measure.py
GRAPH=${SCALE_GRAPH:-random}
N=${SCALE_N:-100}
SETTLE=${SCALE_SETTLE:-20}
IDLE=${SCALE_IDLE:-30}
OUT=${SCALE_OUT:-/dev/null}
PKI=${SCALE_PKI:-$top_builddir/tests/scale/pki}

net_init
net_alone
net_need_cloud
[ -x "$CLOUDCAT" ] || hard_error "$CLOUDCAT: not built"
command -v python3 >/dev/null || skip "no python3"
ASAN=0
grep -q __asan_init "$CLOUD" 2>/dev/null && ASAN=1

# The certificates of n1..nN, made once per build tree and kept: one CA,
# the missing nodes' certificates made four at a time.
scale_certs() {
	local i need=()
	mkdir -p "$PKI" || hard_error "mkdir $PKI"
	[ -s "$PKI/ca.crt" ] ||
		"$CLOUD_CERT" ca "$PKI" >/dev/null || hard_error "cloud-cert ca"
	for ((i = 1; i <= N; i++)); do
		[ -s "$PKI/n$i.crt" ] || need+=("n$i")
	done
	[ ${#need[@]} -eq 0 ] && return
	printf '%s\n' "${need[@]}" |
		xargs -P 4 -I{} "$CLOUD_CERT" node "$PKI" {} >/dev/null ||
		hard_error "cloud-cert node"
}

# Namespaces, then every veth pair from the root namespace (both ends
# named e<edge>), then each namespace's addresses: 10.x.y.1 on the
# lower node's end, .2 on the higher one's, a /24 per edge.
scale_net() {
	local i a b e=0 x y
	for ((i = 1; i <= N; i++)); do
		NET_NS+=("${PFX}n$i")
	done
	printf 'netns add %s\n' "${NET_NS[@]}" | ip -batch - ||
		hard_error "ip netns add"
	while read -r a b; do
		e=$((e + 1))
		echo "link add e$e netns ${PFX}n$a type veth peer name e$e netns ${PFX}n$b"
	done <"$NET_TMP/edges" | ip -batch - || hard_error "veths"
	e=0
	while read -r a b; do
		e=$((e + 1))
		x=$((64 + e / 256)) y=$((e % 256))
		echo "addr add 10.$x.$y.1/24 dev e$e" >>"$NET_TMP/ip-n$a"
		echo "link set e$e up" >>"$NET_TMP/ip-n$a"
		echo "addr add 10.$x.$y.2/24 dev e$e" >>"$NET_TMP/ip-n$b"
		echo "link set e$e up" >>"$NET_TMP/ip-n$b"
		echo "connect 10.$x.$y.1 5000" >>"$NET_TMP/n$b.conn"
	done <"$NET_TMP/edges"
	for ((i = 1; i <= N; i++)); do
		echo "link set lo up" >>"$NET_TMP/ip-n$i"
		ip -n "${PFX}n$i" -batch "$NET_TMP/ip-n$i" ||
			hard_error "addresses of n$i"
	done
}

# Start node I's daemon; append the node to $NET_TMP/nodes.
daemon_start() {
	local i=$1 cfg=$NET_TMP/n$1.conf
	{
		echo "key $PKI/n$i.key"
		echo "cert $PKI/n$i.crt"
		echo "ca $PKI/ca.crt"
		echo "listen * 5000"
		cat "$NET_TMP/n$i.conn" 2>/dev/null
		echo "gate $NET_TMP/n$i.gate"
		echo "control $NET_TMP/n$i.ctl"
		[ -z "${SCALE_CFG:-}" ] || printf '%s\n' "$SCALE_CFG"
	} >"$cfg"
	run_in "n$i" "n$i" "$CLOUD" -@include "$cfg"
	eval "PID_n$i=$LAST_PID"
	printf 'n%d %s 1/%04x/16 %d %s\n' "$i" "$NET_TMP/n$i.ctl" "$i" \
		"$LAST_PID" "${PFX}n$i" >>"$NET_TMP/nodes"
}

# Node I's cloudcat, announcing its address (it needs no namespace: the
# gate is a path). It starts before its daemon and attaches as soon as the
# daemon's gate socket is there (-wait).
gate_start() {
	local i=$1 hex
	printf -v hex %04x "$i"
	(exec "$CLOUDCAT" -gate "$NET_TMP/n$i.gate" -instance 1 \
		-address "$hex" -count 1000000000 -wait 120000 \
		>/dev/null 2>>"$NET_TMP/cat-n$i.log" </dev/null 8>&-) &
	NET_PIDS+=($!)
}

# key=value figures, to SCALE_OUT and the log
RESULT=()
put() {
	RESULT+=("$1=$2")
	say "$1=$2"
}
# kv KEY FILE: the value of KEY= in FILE
kv() { sed -n "s/^$1=//p" "$2" | tail -n 1; }
# word KEY LINE: the value of the word KEY=... in LINE
word() {
	local w
	for w in $2; do
		[[ $w = "$1="* ]] && echo "${w#*=}"
	done
}
# got KEY: the figure put as KEY
got() { word "$1" "${RESULT[*]}"; }

# The aims at N = 100 (issue 15), scaled to N: the times and the RSS stay
# (a smaller mesh must do as well), idle control traffic goes with N
# (each node holds N routes). With ASan the times and CPU get 3x the
# slack, and RSS is not held. Idle CPU: "near zero", taken as 0.5 % of a
# core.
scale_aims() {
	local slow=1
	[ "$ASAN" = 1 ] && slow=3
	AIM_CONV=$((5000 * slow))
	AIM_REROUTE=$((1000 * slow))
	AIM_RSS=8192
	AIM_CTL=$((1000 * N / 100))
	AIM_CPU=$(awk -v s="$slow" 'BEGIN { print 0.5 * s }')
}

# aim NAME VALUE LIMIT UNIT: is VALUE <= LIMIT? Puts aim_NAME (the limit)
# and met_NAME (yes or no), and counts a miss.
aim() {
	local name=$1 v=$2 lim=$3 unit=$4 ok
	ok=$(awk -v v="$v" -v l="$lim" 'BEGIN { print (v + 0 <= l + 0) ? "yes" : "no" }')
	put "aim_$name" "$lim"
	put "met_$name" "$ok"
	if [[ " ${SCALE_KNOWN_MISSED:-} " = *" $name "* ]]; then
		[ "$ok" = yes ] && say "NOTE: aim $name is met now ($v $unit):" \
			"take it out of SCALE_KNOWN_MISSED"
		[ "$ok" = yes ] || say "aim missed, known: $name $v $unit > $lim $unit"
		return
	fi
	[ "$ok" = yes ] || MISSED+=("$name $v $unit > $lim $unit")
}

measure_run() {
	local t0 out i name n kill_ms cpu k v
	"$MEASURE" graph "$GRAPH" "$N" "${SCALE_SEED:-1}" >"$NET_TMP/edges" ||
		hard_error "graph $GRAPH $N"
	put graph "$GRAPH"
	put n "$N"
	put edges "$(wc -l <"$NET_TMP/edges")"
	put load "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
	scale_certs
	scale_net
	# the gates first, each waiting for its daemon's socket, then
	# every daemon at once: the whole mesh starts cold, every address
	# announced as soon as its daemon is up, and converges from the
	# last daemon's start
	t0=$(now_ms)
	for ((i = 1; i <= N; i++)); do
		gate_start "$i"
	done
	put gates_ms $(($(now_ms) - t0))
	t0=$(now_ms)
	for ((i = 1; i <= N; i++)); do
		daemon_start "$i"
	done
	LAST_START=$(now_ms)
	put start_ms $((LAST_START - t0))
	out=$("$MEASURE" converge "$NET_TMP/nodes" "$NET_TMP/edges" \
		"$LAST_START" "${SCALE_CONV_WAIT:-60}") ||
		fail "not converged: $out"
	put conv_ms "$(word ms "$out")"
	put conv_first_ms $(($(word ms "$out") + LAST_START - t0))
	put conv_round_ms "$(word round_ms "$out")"
	put conv_cpu_s "$("$MEASURE" cpu "$NET_TMP/nodes")"
	for ((i = 1; i <= N; i++)); do cloud_check "n$i"; done
	put settle_s "$SETTLE"
	sleep "$SETTLE"
	"$MEASURE" idle "$NET_TMP/nodes" "$IDLE" "$NET_TMP/idle.txt" \
		>"$NET_TMP/idle.kv" || fail "idle measurement"
	for k in ctl wire cpu rss hwm pss uss; do
		put "${k}_max" "$(kv "${k}_max" "$NET_TMP/idle.kv")"
		put "${k}_mean" "$(kv "${k}_mean" "$NET_TMP/idle.kv")"
	done
	put idle_s "$(kv idle_s "$NET_TMP/idle.kv")"
	read -r name n < <("$MEASURE" busiest "$NET_TMP/nodes")
	[ -n "${name:-}" ] || fail "no busiest node"
	put killed "$name"
	put killed_routes_via "$n"
	cpu=$("$MEASURE" cpu "$NET_TMP/nodes" "$name")
	kill_ms=$(now_ms)
	v=PID_$name
	kill -KILL "${!v}"
	out=$("$MEASURE" converge "$NET_TMP/nodes" "$NET_TMP/edges" \
		"$kill_ms" "${SCALE_REROUTE_WAIT:-30}" "$name") ||
		fail "survivors do not reach each other after $name died: $out"
	put reroute_ms "$(word ms "$out")"
	put reroute_round_ms "$(word round_ms "$out")"
	put reroute_cpu_s "$(awk -v a="$cpu" -v b="$("$MEASURE" cpu \
		"$NET_TMP/nodes" "$name")" 'BEGIN { printf "%.2f", b - a }')"
	put cut_off "$(word cut_off "$out")"
	put far "$(word far "$out")"
	for ((i = 1; i <= N; i++)); do
		[ "n$i" = "$name" ] || cloud_check "n$i"
	done
}

MISSED=()
measure_run
scale_aims
aim conv "$(got conv_ms)" "$AIM_CONV" ms
aim reroute "$(got reroute_ms)" "$AIM_REROUTE" ms
[ "$ASAN" = 1 ] ||
	aim rss "$(got rss_max)" "$AIM_RSS" kB
aim ctl "$(got ctl_max)" "$AIM_CTL" B/s
aim cpu "$(got cpu_max)" "$AIM_CPU" %
printf '%s\n' "${RESULT[@]}" >"$OUT"
[ "$OUT" = /dev/null ] || cp "$NET_TMP/idle.txt" "$OUT.nodes"
if [ ${#MISSED[@]} -gt 0 ]; then
	for m in "${MISSED[@]}"; do
		say "aim missed: $m"
	done
	[ "${SCALE_ASSERT:-0}" = 1 ] && fail "${#MISSED[@]} aim(s) missed"
fi
say "ok"
