#!/bin/bash
# The IP gate carries bulk traffic intact, both ways, between a tun with
# offload and one without in the same instance (the daemon segments for
# the one without), over a relay: 50 MB A -> C and C -> A with equal
# SHA-256, over IPv4 and over IPv6.
#
#  tun0 10.20.0.1 fd20::1  (offload)   tun0 10.20.0.3 fd20::3  (no offload)
#  A [cloud+tun] ---- B [cloud] ---- C [cloud+tun]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
. "$top_srcdir/tests/net/tun.sh"
net_init
net_need_cloud
tun_need
command -v python3 >/dev/null || skip "no python3"

line_abc
tun_start A A a -instance 4 -iface_addr 10.20.0.1/24 -iface_addr fd20::1/64 -mtu 1400 -offload yes
tun_start C C c -instance 4 -iface_addr 10.20.0.3/24 -iface_addr fd20::3/64 -mtu 1400 -offload no
wait_for 5 tun_up A || fail "A's TUN is not up"
wait_for 5 tun_up C || fail "C's TUN is not up"
wait_for 10 pings4 A 10.20.0.3 || fail "ping A -> C failed"
wait_for 10 pings4 A fd20::3 || fail "IPv6 ping A -> C failed"
pings4 A 10.20.0.3 -s 1372 -M do || fail "full-size packets (DF) do not pass"

MB=50
[ -z "${NET_WRAP:-}" ] || MB=10	# valgrind: xfer allows 30 s a transfer
xfer A C 10.20.0.3 $((MB * 1000000))
say "$MB MB A -> C (offload -> plain) intact in $XFER_MS ms"
xfer C A 10.20.0.1 $((MB * 1000000))
say "$MB MB C -> A (plain -> offload) intact in $XFER_MS ms"
xfer A C fd20::3 $((MB * 1000000))
say "$MB MB A -> C over IPv6 intact in $XFER_MS ms"
cloud_check A B C
say "ok"
