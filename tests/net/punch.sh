# Helpers for the stunproxy tests (sourced after lib.sh, mesh.sh, ether.sh
# and nat.sh).
STUNPROXY=${STUNPROXY:-$top_builddir/stunproxy/stunproxy}
CLOUDCTL=$top_builddir/tools/cloudctl
MAC_A=02:00:00:00:00:0a MAC_B=02:00:00:00:00:0b
ROUTE_B=0/02000000000b/48	# B's TAP MAC as A's status file shows it

sp_need() { [ -x "$STUNPROXY" ] || hard_error "$STUNPROXY: not built"; }

# sp_start NAME TAG [OPTION VALUE]...: stunproxy in NAME on NAME's gate.
# Sets PID_sp_TAG; it logs to $NET_TMP/sp-TAG.log.
sp_start() {
	local n=$1 tag=$2
	shift 2
	run_in "$n" "sp-$tag" "${WRAP[@]}" "$STUNPROXY" \
		-gate "$NET_TMP/$n.gate" -loglevel 3 "$@"
	eval "PID_sp_$tag=$LAST_PID"
}

# nat_mesh [A_KIND] [B_KIND]: nat_topo, then cloud on the public S and on
# A and B behind their NATs, A and B linked to S only (over TCP), and an
# ether gate on A (10.88.0.1, MAC_A) and B (10.88.0.2, MAC_B). Returns
# once the relayed ping A -> B works.
nat_mesh() {
	nat_topo "$@"
	certs A B S
	mesh_start S
	mesh_start A "connect $NAT_S_IP 5000"
	mesh_start B "connect $NAT_S_IP 5000"
	wait_for 15 links_up A S || fail "A-S not up"
	wait_for 15 links_up B S || fail "B-S not up"
	ether_start A A a -iface_addr 10.88.0.1/24 -mac $MAC_A
	ether_start B B b -iface_addr 10.88.0.2/24 -mac $MAC_B
	wait_for 5 tap_up A || fail "A's TAP is not up"
	wait_for 5 tap_up B || fail "B's TAP is not up"
	wait_for 10 pings A 10.88.0.2 || fail "relayed ping A -> B failed"
}

# direct A B: both daemons hold a link to each other.
direct() { cloud_check "$1" "$2"; link_up "$1" "$2" && link_up "$2" "$1"; }

# reach NAME PEER WORD: NAME's status file says PEER is reached WORD
# (direct, relayed or none), as stunproxy's note made it show up.
reach() { grep "^node name=$2 " "$NET_TMP/$1.status" 2>/dev/null |
	grep -q " reach=$3"; }

# udp_listening NAME PORT: something in NAME has UDP PORT open.
udp_listening() { in_ns "$1" ss -Hlun "sport = :$2" 2>/dev/null | grep -q .; }
