# bench/vpn-underlay.sh: the bare veth underlay, the physical limit.
# Pair: A -> B directly. Line: B forwards IP between its two veths and
# A and C get routes through it, for this measurement only.

underlay_check() { return 0; }
underlay_version() { echo "Linux $(uname -r) veth, MTU 1500"; }
underlay_desc() {
	echo "plain veth, MTU 1500, no encryption; line: B forwards IP (kernel)"
}

underlay_setup() {
	if [ "$1" = pair ]; then
		TARGET_IP=$U_BA
		return 0
	fi
	TARGET_IP=$U_C
	nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=1 &&
	nsx "$NS_A" ip route add 10.201.2.0/24 via "$U_BA" &&
	nsx "$NS_C" ip route add 10.201.1.0/24 via "$U_BC"
}

underlay_teardown() {
	[ "$1" = line ] || return 0
	nsx "$NS_A" ip route del 10.201.2.0/24 2>/dev/null
	nsx "$NS_C" ip route del 10.201.1.0/24 2>/dev/null
	nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=0
}
