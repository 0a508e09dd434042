# bench/lib.sh: hosts in network namespaces, process bookkeeping and the
# measurements shared by every VPN under test. Sourced by bench/run.
#
#   underlay (veth, MTU 1500, no route A<->C, B does not forward):
#
#     A 10.201.1.1 ---- 10.201.1.2 B 10.201.2.2 ---- 10.201.2.3 C
#
#   overlay (every VPN, MTU 1400): A 10.202.0.1  B 10.202.0.2  C 10.202.0.3
#
# The pair uses A and B only; the line runs the VPN on A, B and C and
# measures A -> C, which only works if B relays.
#
# Everything we start is recorded by PID and everything we create is
# recorded by name, so cleanup touches nothing else.
# shellcheck shell=bash disable=SC2015,SC2086

CVB=cvb$$			# unique per run: namespaces, wg sockets
NS_A=$CVB-a
NS_B=$CVB-b
NS_C=$CVB-c
U_A=10.201.1.1 U_BA=10.201.1.2 U_BC=10.201.2.2 U_C=10.201.2.3
O_A=10.202.0.1 O_B=10.202.0.2 O_C=10.202.0.3
OVL_MTU=1400
HZ=$(getconf CLK_TCK)

CREATED_NS=()		# namespaces this run created
VPN_PIDS=()		# "node:pid" of the VPN under test (measured)
AUX_PIDS=()		# iperf3 servers, samplers
WORK=			# scratch dir (keys, configs, sockets)
LOGDIR=			# daemon logs, kept with the raw data
CUR=bench		# "vpn-topo" being measured, prefix of log names

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- hosts ---------------------------------------------------------------

ns_new() {
	ip netns add "$1" || die "cannot create namespace $1"
	CREATED_NS+=("$1")
	nsx "$1" ip link set lo up
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0 \
		net.ipv4.ip_forward=0 >/dev/null
}

# veth NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 (addresses as CIDR)
veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" ||
		die "cannot create veth $2/$5"
	nsx "$1" ip addr add "$3" dev "$2"
	nsx "$4" ip addr add "$6" dev "$5"
	nsx "$1" ip link set "$2" up
	nsx "$4" ip link set "$5" up
}

# Random loss of PCT % on every underlay veth, inbound, in each namespace:
# PCT % per hop and direction. Tunnel devices are not matched. A veth
# passes GSO packets (TCP TSO, UDP GSO) whole, and a rule would drop a
# whole batch of up to 64 packets at once: with gso_max_segs 1 they are
# cut before the veth, so each packet is dropped on its own, as on a wire.
loss_add() {
	local ns pct=$1 dev
	for dev in "$NS_A cvbv-ab" "$NS_B cvbv-ba" "$NS_B cvbv-bc" "$NS_C cvbv-cb"; do
		set -- $dev
		nsx "$1" ip link set dev "$2" gso_max_segs 1 ||
			die "cannot set gso_max_segs on $2"
	done
	for ns in "$NS_A" "$NS_B" "$NS_C"; do
		nsx "$ns" nft -f - <<-EOF || die "nft loss rule in $ns"
		table inet cvb_loss {
			chain pre {
				type filter hook prerouting priority -300; policy accept;
				iifname "cvbv*" numgen random mod 100 < $pct drop
			}
		}
		EOF
	done
}

net_up() {
	ns_new "$NS_A"
	ns_new "$NS_B"
	ns_new "$NS_C"
	veth "$NS_A" cvbv-ab "$U_A/24" "$NS_B" cvbv-ba "$U_BA/24"
	veth "$NS_B" cvbv-bc "$U_BC/24" "$NS_C" cvbv-cb "$U_C/24"
	if [ "${LOSS:-0}" != 0 ]; then
		loss_add "$LOSS"
	fi
}

# Wait until DEV exists in NS, then give it the overlay address and MTU.
ns_ifup() {
	local ns=$1 dev=$2 cidr=$3 i
	for i in $(seq 100); do
		nsx "$ns" ip link show "$dev" >/dev/null 2>&1 && break
		sleep 0.1
	done
	nsx "$ns" ip link set "$dev" mtu "$OVL_MTU" &&
	nsx "$ns" ip addr add "$cidr" dev "$dev" &&
	nsx "$ns" ip link set "$dev" up ||
		{ log "$ns: cannot configure $dev"; return 1; }
}

# ---- processes -----------------------------------------------------------

# spawn NODE NAME CMD...: run CMD in node's namespace, in the foreground of
# its own process (ip netns exec execs), and record its PID as measured.
spawn() {
	local node=$1 name=$2 ns
	shift 2
	ns=$(node_ns "$node")
	ip netns exec "$ns" "$@" >>"$LOGDIR/$CUR-$name.log" 2>&1 </dev/null &
	VPN_PIDS+=("$node:$!")
}

spawn_aux() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$LOGDIR/$name.log" 2>&1 </dev/null &
	AUX_PIDS+=("$!")
}

node_ns() {
	case $1 in
	a) echo "$NS_A" ;;
	b) echo "$NS_B" ;;
	c) echo "$NS_C" ;;
	esac
}

# Stop PIDs: TERM, up to 3 s, then KILL. Only the PIDs given.
stop_pids() {
	local p i alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 30); do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

vpn_pids_only() {
	local e
	for e in "${VPN_PIDS[@]}"; do
		echo "${e#*:}"
	done
}

stop_vpn() {
	# shellcheck disable=SC2046
	stop_pids $(vpn_pids_only)
	VPN_PIDS=()
}

stop_aux() {
	stop_pids "${AUX_PIDS[@]}"
	AUX_PIDS=()
}

# Are all measured processes still running?
vpn_alive() {
	local p
	for p in $(vpn_pids_only); do
		kill -0 "$p" 2>/dev/null || { log "process $p died"; return 1; }
	done
	return 0
}

cleanup() {
	local ns
	trap - EXIT INT TERM
	stop_aux
	stop_vpn
	for ns in "${CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	CREATED_NS=()
	[ -n "$WORK" ] && rm -rf "$WORK"
}

# ---- measurements --------------------------------------------------------

# Wait up to SECS for the overlay to carry pings from NS to IP.
wait_reach() {
	local ns=$1 ip=$2 end=$((SECONDS + ${3:-30}))
	while [ "$SECONDS" -lt "$end" ]; do
		vpn_alive || return 1
		nsx "$ns" ping -q -c 1 -W 1 "$ip" >/dev/null 2>&1 && return 0
		sleep 0.5	# "unreachable" fails at once
	done
	return 1
}

# utime+stime (ticks) of all measured processes, threads included.
cpu_ticks() {
	local p t sum=0
	for p in $(vpn_pids_only); do
		# fields after the last ")" : state is $1, utime $12, stime $13
		t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
			awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# Sample VmRSS of every node (sum of its processes) every 0.2 s until
# killed; the largest node figure seen so far (KiB) is kept in FILE, and
# the largest figure of each program (by name) in FILE.proc.
rss_sampler() {
	local out=$1 max=0 e node p kb n comm
	declare -A per pmax
	while [ -d "$WORK" ]; do
		per=()
		for e in "${VPN_PIDS[@]}"; do
			node=${e%%:*} p=${e#*:}
			kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" \
				2>/dev/null)
			comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
			per[$node]=$(( ${per[$node]:-0} + ${kb:-0} ))
			[ "${kb:-0}" -gt "${pmax[$comm]:-0}" ] && pmax[$comm]=$kb
		done
		for n in "${per[@]}"; do
			[ "$n" -gt "$max" ] && max=$n
		done
		echo "$max" >"$out.tmp" && mv "$out.tmp" "$out"
		for comm in "${!pmax[@]}"; do
			echo "$comm ${pmax[$comm]}"
		done >"$out.proc.tmp" && mv "$out.proc.tmp" "$out.proc"
		sleep 0.2
	done
}

# iperf3 JSON -> "bytes_received bits_per_second"
iperf_parse() {
	python3 -c '
import json, sys
try:
	d = json.load(open(sys.argv[1]))
	s = d["end"]["sum_received"]
	r = d["end"].get("sum_sent", {}).get("retransmits", 0)
	print(int(s["bytes"]), s["bits_per_second"], int(r))
except Exception:
	sys.exit(1)
' "$1"
}

# ping output -> median RTT (ms) of the replies
ping_median() {
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$1" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) exit 1
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ping outputs -> "p50 p99 max" (ms) of all their replies, pooled;
# nearest rank: the p-th percentile of n sorted values is value
# ceil(p * n / 100)
ping_pct() {
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$@" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) exit 1
			i50 = int((50 * NR + 99) / 100); i99 = int((99 * NR + 99) / 100)
			print v[i50], v[i99], v[NR] }'
}

# record VPN TOPO METRIC RUN VALUE
record() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW/samples.tsv"
}

# ---- certificates --------------------------------------------------------

# pki_make NAME...: WORK/pki/ca.{key,crt} and NAME.{key,crt} (ECDSA P-256,
# TLS client and server use), made once per run with certtool.
pki_make() {
	local d=$WORK/pki n t
	mkdir -p "$d"
	t=$d/tmpl
	if [ ! -e "$d/ca.crt" ]; then
		printf 'cn = "cvb bench CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$t"
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
			--no-text --outfile "$d/ca.key" >/dev/null 2>&1 &&
		certtool --generate-self-signed --load-privkey "$d/ca.key" \
			--template "$t" --no-text --outfile "$d/ca.crt" \
			>/dev/null 2>&1 || { log "certtool: CA failed"; return 1; }
	fi
	for n in "$@"; do
		[ -e "$d/$n.crt" ] && continue
		printf 'cn = "%s"\ntls_www_client\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 30\n' \
			"$n" >"$t"
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
			--no-text --outfile "$d/$n.key" >/dev/null 2>&1 &&
		certtool --generate-certificate --load-privkey "$d/$n.key" \
			--load-ca-certificate "$d/ca.crt" \
			--load-ca-privkey "$d/ca.key" --template "$t" --no-text \
			--outfile "$d/$n.crt" >/dev/null 2>&1 ||
			{ log "certtool: $n failed"; return 1; }
	done
}
