#!/bin/bash
# Two nodes behind NAT with no mesh path between them at all meet at a
# rendezvous server: `stunproxy -serve` on the public host S (no daemon
# there). With the same -key they find each other, punch, and their
# daemons link directly.
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

nat_topo easy easy
certs A B
mesh_start A
mesh_start B
wait_for 5 test -S "$NET_TMP/A.gate" -a -S "$NET_TMP/B.gate" ||
	fail "the daemons' gate sockets did not appear"
ether_start A A a -iface_addr 10.88.0.1/24 -mac $MAC_A
ether_start B B b -iface_addr 10.88.0.2/24 -mac $MAC_B
wait_for 5 tap_up A || fail "A's TAP is not up"
wait_for 5 tap_up B || fail "B's TAP is not up"
pings A 10.88.0.2 && fail "A reached B with no path at all"

run_in S sp-s "${WRAP[@]}" "$STUNPROXY" -serve "$NAT_S_IP 3479" -loglevel 3
wait_for 5 log_has sp-s "serve: answering" || fail "the rendezvous server did not start"
RV=(-rendezvous "$NAT_S_IP 3479" -key "correct horse")
t0=$(now_ms)
sp_start A a "${RV[@]}"
sp_start B b "${RV[@]}"
wait_for 15 direct A B || fail "no direct link A - B within 15 s"
say "direct link A - B up $(($(now_ms) - t0)) ms after stunproxy started"
log_has sp-a "rendezvous .* registered" || fail "A did not register"
log_has sp-a "rendezvous sees us as $NAT1_PUB:" ||
	fail "A did not learn its public address from the rendezvous"
wait_for 5 pings A 10.88.0.2 || fail "ping A -> B over the direct link failed"

cloud_check A B
say "ok"
