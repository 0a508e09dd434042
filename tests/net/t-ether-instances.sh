#!/bin/bash
# Two virtual LANs on one mesh never see each other's frames, even with
# the same IP subnet. X and Y are plain hosts whose ether gates attach to
# A's and C's daemons in instance 2.
#
#   A: tap 10.88.0.1 inst 1        C: tap 10.88.0.3 inst 1
#   X: tap 10.88.0.2 inst 2 (A)    Y: tap 10.88.0.4 inst 2 (C)
#   A [cloud] ---------- C [cloud]
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need

host A C X Y
link A C
certs A C
mesh_start C
mesh_start A "connect $LB 5000"
wait_for 15 links_up A C || fail "A-C not up"
ether_start A A a -instance 1 -iface_addr 10.88.0.1/24
ether_start C C c -instance 1 -iface_addr 10.88.0.3/24
ether_start X A x -instance 2 -iface_addr 10.88.0.2/24
ether_start Y C y -instance 2 -iface_addr 10.88.0.4/24
for n in A C X Y; do
	wait_for 5 tap_up $n || fail "$n's TAP is not up"
done
wait_for 10 pings A 10.88.0.3 || fail "instance 1: A -> C failed"
wait_for 10 pings X 10.88.0.4 || fail "instance 2: X -> Y failed"
say "each instance works on its own"
pings A 10.88.0.4 && fail "instance 1 reached instance 2 (A -> Y)"
pings X 10.88.0.3 && fail "instance 2 reached instance 1 (X -> C)"
pings A 10.88.0.2 && fail "instance 1 reached instance 2 (A -> X, same daemon)"
in_ns A ip neigh show 10.88.0.4 | grep -q lladdr &&
	fail "A resolved Y's MAC across instances"
cloud_check A C
say "ok: no frame crossed between instances"
