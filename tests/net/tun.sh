# Helpers for the tun tests (sourced after lib.sh and mesh.sh).
TUN=${TUN:-$top_builddir/tun/tun}

tun_need() {
	[ -x "$TUN" ] || hard_error "$TUN: not built"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# tun_start NS GATE_OWNER TAG [OPTION VALUE]...: tun in namespace NS on
# GATE_OWNER's gate socket; its device is "tun0". Sets PID_tun_TAG; it
# logs to $NET_TMP/tun-TAG.log.
tun_start() {
	local n=$1 owner=$2 tag=$3
	shift 3
	run_in "$n" "tun-$tag" "${WRAP[@]}" "$TUN" -gate "$NET_TMP/$owner.gate" \
		-iface_dev tun0 -loglevel 3 "$@"
	eval "PID_tun_$tag=$LAST_PID"
}

tun_up() { ip -n "$(ns "$1")" link show tun0 2>/dev/null | grep -q 'UP'; }

# pings4 NS ADDR [PING OPTION]...: three pings answered.
pings4() {
	local n=$1 a=$2
	shift 2
	in_ns "$n" ping -q -c 3 -i 0.2 -W 1 "$@" "$a" >/dev/null 2>&1
}

# lan NS_ROUTER NS_HOST NET: a LAN NET.0/24 between a node (NET.1) and a
# plain host (NET.2) whose default route is the node; the node forwards.
lan() {
	local r=$1 h=$2 net=$3 i
	i=$((++NET_LINKS))
	ip -n "$PFX$r" link add "l$i" type veth peer name "l$i" \
		netns "$PFX$h" || hard_error "veth $r-$h"
	ip -n "$PFX$r" addr add "$net.1/24" dev "l$i"
	ip -n "$PFX$h" addr add "$net.2/24" dev "l$i"
	ip -n "$PFX$r" link set "l$i" up
	ip -n "$PFX$h" link set "l$i" up
	ip -n "$PFX$h" route add default via "$net.1"
	in_ns "$r" sysctl -qw net.ipv4.ip_forward=1
}
