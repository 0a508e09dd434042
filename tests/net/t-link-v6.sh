#!/bin/bash
# Links over IPv6, and "listen * PORT" on IPv4 and IPv6 at once: A links
# to B over IPv6, C over IPv4, both to B's one wildcard listen line.
#
#   A fd77:1::1 ---v6---> B "listen * 5000" <---v4--- C 10.77.2.2
#
# With LINK_UDP=1 (t-udp-link-v6.sh) the links are UDP, and the path MTU
# probed over IPv6 is 1500 - 48 = 1452 bytes of UDP payload.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B C
link A B
ip -n "$(ns A)" addr add fd77:1::1/64 dev "v$NET_LINKS" nodad
ip -n "$(ns B)" addr add fd77:1::2/64 dev "v$NET_LINKS" nodad
link B C; BC=$LA
certs A B C
cloud_start B "$LISTEN * 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "$CONNECT fd77:1::2 5000" "conn_retry 500ms"
cloud_start C "$CONNECT $BC 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "no IPv6 link A -> B"
wait_for 15 links_up C B || fail "no IPv4 link C -> B"
grep -q '^link peer=B .*addr=\[fd77:1::2\]:5000 ' "$NET_TMP/A.status" ||
	fail "A's link does not show B's IPv6 address: $(grep '^link' "$NET_TMP/A.status")"
grep -q '^link peer=A .*addr=\[fd77:1::1\]:' "$NET_TMP/B.status" ||
	fail "B's link does not show A's IPv6 address"
link_over A B && link_over C B || fail "the links are not over $TRANSPORT"
if [ "$TRANSPORT" = udp ]; then
	v6mtu() { grep -q '^link peer=B .* mtu=1452 ' "$NET_TMP/A.status"; }
	wait_for 5 v6mtu || fail "A's IPv6 path MTU is not 1452"
fi
say "$(grep '^link' "$NET_TMP/B.status")"
cloud_check A B C
say "ok"
