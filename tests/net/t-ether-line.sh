#!/bin/bash
# The classic VPN across a relay: A and C can reach only B on the
# underlay; their TAPs are one Ethernet through B's daemon.
#
#  tap0 10.88.0.1        (relay)        tap0 10.88.0.3
#  A [cloud+ether] ---- B [cloud] ---- C [cloud+ether]
#
# ping A -> C (ARP resolves across the relay), full-size frames with
# DF set, and a 50 MB TCP transfer that must arrive with the same hash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

line_abc
ether_start A A a -iface_addr 10.88.0.1/24
ether_start C C c -iface_addr 10.88.0.3/24
wait_for 5 tap_up A || fail "A's TAP is not up"
wait_for 5 tap_up C || fail "C's TAP is not up"

wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed"
in_ns A ip neigh show 10.88.0.3 | grep -q lladdr || fail "A did not learn C's MAC"
say "ping A -> C ok; $(in_ns A ping -c 5 -i 0.1 -q 10.88.0.3 | tail -1)"
pings A 10.88.0.3 -s 1472 -M do || fail "1500-byte frames with DF do not pass"
say "full-size frames (ping -s 1472 -M do) pass"
pings A 10.88.0.3 -s 1473 -M do && fail "a frame above the MTU passed with DF set"

# 50 MB of random bytes over TCP, hashed on both ends (10 MB under
# valgrind: xfer allows the sender 30 s in all).
MB=50
[ -z "${NET_WRAP:-}" ] || MB=10
xfer A C 10.88.0.3 $((MB * 1000000))
say "$MB MB A -> C intact in $XFER_MS ms ($((MB * 8000 / (XFER_MS ? XFER_MS : 1))) Mbit/s)"
cloud_check A B C
say "ok"
