#!/bin/bash
# The same punch as t-nat-punch with Debian's coturn as the STUN server (no
# stunproxy on S at all): any standard STUN server will do. With one
# server the NAT's kind is unknown, which does not stop the punch.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
. "$top_srcdir/tests/net/nat.sh"
. "$top_srcdir/tests/net/punch.sh"
net_init
net_need_cloud
ether_need
sp_need
command -v turnserver >/dev/null || skip "no turnserver (coturn)"

nat_mesh easy easy
nat_coturn S 3478
wait_for 5 udp_listening S 3478 || fail "coturn is not listening"
t0=$(now_ms)
sp_start A a -peer B -stun "$NAT_S_IP 3478"
sp_start B b -peer A -stun "$NAT_S_IP 3478"
wait_for 15 direct A B || fail "no direct link A - B within 15 s"
say "direct link A - B up $(($(now_ms) - t0)) ms after stunproxy started"
log_has sp-a "STUN $NAT_S_IP:3478 sees us as $NAT1_PUB:" ||
	fail "A did not learn its mapping from coturn"
wait_for 5 has_route A $ROUTE_B B || fail "A's route to B's MAC is not direct"
pings A 10.88.0.2 || fail "ping A -> B over the direct link failed"
cloud_check A B S
say "ok"
