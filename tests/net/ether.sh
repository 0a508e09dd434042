# Helpers for the ether tests (sourced after lib.sh and mesh.sh).
ETHER=${ETHER:-$top_builddir/ether/ether}

ether_need() {
	[ -x "$ETHER" ] || hard_error "$ETHER: not built"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# ether_start NS GATE_OWNER TAG [OPTION VALUE]...: ether in namespace NS
# attached to GATE_OWNER's gate socket; its TAP is named "tap0".
ether_start() {
	local n=$1 owner=$2 tag=$3
	shift 3
	run_in "$n" "ether-$tag" "$ETHER" -gate "$NET_TMP/$owner.gate" \
		-iface_dev tap0 -loglevel 3 "$@"
	eval "PID_ether_$tag=$LAST_PID"
}

tap_up() { ip -n "$(ns "$1")" link show tap0 2>/dev/null | grep -q 'UP'; }

# pings NS ADDR [ping options]: a few pings get through.
pings() {
	local n=$1 a=$2
	shift 2
	in_ns "$n" ping -q -c 3 -i 0.2 -W 1 "$@" "$a" >/dev/null 2>&1
}
