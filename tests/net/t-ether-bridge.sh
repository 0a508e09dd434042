#!/bin/bash
# Bridge mode: C's TAP is in a Linux bridge with a veth to host H. C's
# ether learns H's MAC from frames and announces it, so A reaches H.
#
#  tap0 10.88.0.1                           br0 { tap0, veth } --- H 10.88.0.9
#  A [cloud+ether] ---------------------- C [cloud+ether -bridge yes]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need

host A C H
link A C; AC=$LB
certs A C
mesh_start C
mesh_start A "connect $AC 5000"
wait_for 15 links_up A C || fail "A-C not up"
ether_start A A a -iface_addr 10.88.0.1/24
ether_start C C c -bridge yes
wait_for 5 tap_up C || fail "C's TAP is not up"
in_ns C ip link add br0 type bridge || hard_error "bridge"
in_ns C ip link set tap0 master br0
ip -n "$(ns C)" link add hv type veth peer name hv netns "$(ns H)"
in_ns C ip link set hv master br0
in_ns C ip link set hv up
in_ns C ip link set br0 up
in_ns H ip addr add 10.88.0.9/24 dev hv
in_ns H ip link set hv up
hmac=$(in_ns H cat /sys/class/net/hv/address)

wait_for 15 pings A 10.88.0.9 || fail "A cannot reach H behind C's bridge"
say "A -> H through C's bridge ok"
wait_for 5 grep -q "^route addr=0/${hmac//:/}/48 via=C" "$NET_TMP/A.status" ||
	fail "A has no route to H's MAC $hmac via C"
pings H 10.88.0.1 || fail "H cannot reach A"
cloud_check A C
say "ok"
