#!/bin/bash
# The path MTU of a UDP link follows the path: probes find 1472 bytes on a
# 1500-byte veth; when the path later shrinks (an nftables rule drops
# every datagram over 1300 bytes of UDP payload: a black hole, no ICMP),
# confirmation probes notice, the link falls back and probes again, finds
# 1293..1300, stays up, and large packets pass again
# (fragmented by the link). udp_mtu fixes the size and stops probing.
#
#   A (10.77.1.1) --connect-udp--> B (10.77.1.2) listen-udp :5000
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v nft >/dev/null || skip "no nft"

host A B
link A B; IF=v$NET_LINKS
certs A B
cloud_start B "listen-udp $IP_B 5000" "gate $NET_TMP/B.gate"
cloud_start A "connect-udp $IP_B 5000" "gate $NET_TMP/A.gate" \
	"conn_retry 500ms"
wait_for 15 links_up A B || fail "no link A <-> B"
mtu() { sed -n "s/^link peer=$2 .* mtu=\([0-9]*\) .*/\1/p" "$NET_TMP/$1.status"; }
mtu_is() { [ "$(mtu "$1" "$2")" = "$3" ]; }
wait_for 5 mtu_is A B 1472 || fail "A's path MTU is $(mtu A B), not 1472"
wait_for 5 mtu_is B A 1472 || fail "B's path MTU is $(mtu B A), not 1472"
cat_listen B b 1 0b
wait_for 5 has_route A 1/0b/8 B || fail "no route to B's gate"

# the black hole, on both sides' input, datagram by datagram (no GSO)
for n in A B; do
	ip -n "$(ns $n)" link set dev "$IF" gso_max_segs 1 ||
		hard_error "gso_max_segs"
	in_ns $n nft -f - <<NFT || hard_error "nft in $n"
table inet cvtpmtu {
	chain in { type filter hook input priority 0;
		iifname "$IF" udp length > 1308 counter drop; }
}
NFT
done
t0=$(now_ms)
shrunk() { local m; m=$(mtu A B); [ -n "$m" ] && [ "$m" -le 1300 ] &&
	[ "$m" -ge 1200 ]; }
wait_for 20 shrunk || fail "A's path MTU is still $(mtu A B) 20 s after the path shrank"
say "A's path MTU fell from 1472 to $(mtu A B) in $(($(now_ms) - t0)) ms"
log_has A 'no longer passes' || fail "A did not log the shrink"
found() { local m; m=$(mtu A B); [ -n "$m" ] && [ "$m" -le 1300 ] &&
	[ "$m" -gt 1292 ]; }
wait_for 10 found || fail "A's new search ended at $(mtu A B), not 1293..1300"
say "A's new search found $(mtu A B)"
links_up A B || fail "the link went down"
long=$(printf 'x%.0s' $(seq 3000))
probe() { cat_send A 1 0a 0b "big $long" >/dev/null 2>&1; out_has b "big x"; }
wait_for 10 probe || fail "a 3000-byte packet did not pass after the shrink"
dropped=$(in_ns B nft list table inet cvtpmtu | grep -o 'packets [0-9]*' | head -1)
say "B's black hole dropped: $dropped"

# udp_mtu: no probing, the size as given
cloud_stop A
cloud_start A "connect-udp $IP_B 5000" "gate $NET_TMP/A.gate" "udp_mtu 1250"
wait_for 15 links_up A B || fail "no link with udp_mtu 1250"
mtu_is A B 1250 || fail "udp_mtu 1250: A shows mtu $(mtu A B)"
cloud_check A B
say "ok"
