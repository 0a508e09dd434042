#!/bin/bash
# A link that goes silent (every packet dropped, no FIN, no RST): its
# unanswered ping makes it look slower at each keepalive, so traffic takes
# the other way round the triangle well before conn_timeout closes it (the
# seqno request goes through C, which can still reach B). The time it took
# is printed. With LINK_UDP=1 (t-udp-silent.sh) every link is UDP.
#
#        A ====X==== B        A - B silently cut (nftables drop both ends)
#         \         /
#          \       /          then A -> B goes A -> C -> B
#             C
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v nft >/dev/null || skip "no nft"

host A B C
link A B; AB=$LB; IF_AB=v$NET_LINKS
link A C; AC=$LB
link C B; CB=$LB
certs A B C
mesh_start B
mesh_start C "$CONNECT $CB 5000"
mesh_start A "$CONNECT $AB 5000" "$CONNECT $AC 5000"
for p in "A B" "A C" "C B"; do
	wait_for 15 links_up $p || fail "link $p not up"
	link_over $p || fail "link $p is not over $TRANSPORT"
done
cat_listen B b 1 0b
wait_for 10 has_route A 1/0b/8 B || fail "A does not route 0b directly"

for n in A B; do
	in_ns $n nft -f - <<NFT || hard_error "nft in $n"
table inet cvtcut {
	chain in { type filter hook input priority 0; iifname "$IF_AB" drop; }
	chain out { type filter hook output priority 0; oifname "$IF_AB" drop; }
}
NFT
done
t0=$(now_ms)
probe_until A 0a 0b b "$t0" || fail "no traffic A -> B 15 s after the cut"
ms=$PROBE_MS
say "traffic A -> B resumed via C $ms ms after the silent cut (conn_timeout 3 s)"
wait_for 6 log_has A 'timed out' || fail "A did not close the silent link"
grep -q '^link peer=B .*state=up' "$NET_TMP/A.status" &&
	! wait_for 2 sh -c "! grep -q '^link peer=B .*state=up' '$NET_TMP/A.status'" &&
	fail "A still shows the silent link to B as up"
wait_for 5 has_route A 1/0b/8 C || fail "A's route to 0b is not via C"
[ "$ms" -lt 2500 ] || fail "took $ms ms: not rerouted before conn_timeout (3 s)"
cloud_check A B C
say "ok"
