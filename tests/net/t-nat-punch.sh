#!/bin/bash
# Two nodes behind NAT get a direct link. A and B sit behind their own
# masquerade NATs and connect only to the public node S; stunproxy runs on
# all three, S answering STUN on two ports. Within 15 s A and B hold a
# direct UDP link, A's route to B's MAC goes straight to B, cloudctl says
# "reach=direct"; when the direct path breaks traffic goes through S again
# and the direct link comes back with the path; A pings B after S's daemon
# is killed.
#
#   A --NAT1--+            +--NAT2-- B
#             I (internet)
#             S (public: cloud, stunproxy -stun_listen)
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

nat_mesh easy easy
has_route A $ROUTE_B S || fail "before stunproxy, A's route to B is not via S"
STUN=(-stun "$NAT_S_IP 3478" -stun "$NAT_S_IP 3479")
sp_start S s -stun_listen "$NAT_S_IP 3478" -stun_listen "$NAT_S_IP 3479"
wait_for 5 log_has sp-s "answering on .*3479" || fail "S's stunproxy is not answering"
t0=$(now_ms)
sp_start A a -peer B "${STUN[@]}"
sp_start B b -auto yes "${STUN[@]}"
wait_for 15 direct A B || fail "no direct link A - B within 15 s"
say "direct link A - B up $(($(now_ms) - t0)) ms after stunproxy started"
link_over A B udp || fail "A's link to B is not over UDP"
log_has sp-a "NAT with one port for all destinations" ||
	fail "A did not tell its NAT's kind from two STUN answers"
wait_for 5 has_route A $ROUTE_B B || fail "A's route to B's MAC is not direct"
wait_for 5 reach A B direct || fail "A's status does not say B is reached directly"
"$CLOUDCTL" -f "$NET_TMP/A.status" | grep -q "reach=direct" ||
	fail "cloudctl does not show reach=direct"
pings A 10.88.0.2 || fail "ping A -> B over the direct link failed"

# The direct path breaks (N1 drops UDP to and from B's NAT): A's route to
# B goes back through S at once, and stunproxy punches again once the path
# is back.
in_ns N1 nft -f - <<NFT || hard_error "nft cut"
table ip cvtcut {
	chain cut {
		type filter hook forward priority 0;
		meta l4proto udp ip daddr $NAT2_PUB drop
		meta l4proto udp ip saddr $NAT2_PUB drop
	}
}
NFT
wait_for 10 eval '! link_up A B' || fail "the direct link outlived its path"
wait_for 3 has_route A $ROUTE_B S || fail "A's route to B did not fall back to S"
pings A 10.88.0.2 || fail "the relayed ping failed after the direct path broke"
say "direct path cut: relayed through S again"
in_ns N1 nft delete table ip cvtcut
t0=$(now_ms)
wait_for 20 direct A B || fail "no direct link again once the path was back"
log_has sp-a "B: relayed: the direct link ended" || fail "A did not say why it lost B"
say "direct again $(($(now_ms) - t0)) ms after the path came back"

cloud_stop S KILL
say "S's daemon killed"
wait_for 5 pings A 10.88.0.2 || fail "ping A -> B failed once S was gone"
direct A B || fail "the direct link fell with S"
say "ping A -> B still works; $(in_ns A ping -c 5 -i 0.1 -q 10.88.0.2 | tail -1)"
cloud_check A B
say "ok"
