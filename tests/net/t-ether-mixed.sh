#!/bin/bash
# Offload and plain gates on one LAN: A's ether carries 64 KB TCP
# segments whole (vnet header); C's ether runs with -offload no, so C's
# daemon must cut A's segments into ordinary frames with correct
# checksums, and A must take C's plain frames. TCP both ways must arrive
# intact.
#
#  tap0 10.88.0.1 (offload)              tap0 10.88.0.3 (-offload no)
#  A [cloud+ether] -------------------- C [cloud+ether]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

host A C
link A C; AC=$LB
certs A C
mesh_start C
mesh_start A "connect $AC 5000"
wait_for 15 links_up A C || fail "A-C not up"
ether_start A A a -iface_addr 10.88.0.1/24 -iface_addr fd88::1/64
ether_start C C c -iface_addr 10.88.0.3/24 -iface_addr fd88::3/64 \
	-offload no
wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed"
xfer A C 10.88.0.3 20000000
say "20 MB A -> C (offloaded at A, cut at C's daemon) intact in $XFER_MS ms"
xfer C A 10.88.0.1 20000000
say "20 MB C -> A (plain frames into an offload TAP) intact in $XFER_MS ms"
wait_for 10 pings A fd88::3 || fail "ping6 A -> C failed"
xfer A C fd88::3 20000000
say "20 MB A -> C over IPv6 intact in $XFER_MS ms"
grep -q '^gate .*drops=0' "$NET_TMP/C.status" ||
	say "note: C's gate dropped some packets: $(grep '^gate' "$NET_TMP/C.status")"
cloud_check A C
say "ok"
