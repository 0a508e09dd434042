#!/bin/bash
# Rekeying loses no packet: A - B over UDP (DTLS) and, beside it, a pair
# over TCP (TLS 1.3 KeyUpdate), both with rekey_interval 1s; a flood of
# cloudcat packets with sequence numbers crosses each link while it
# rekeys several times; every packet arrives.
#
#   A (10.77.1.1) --udp--> B (10.77.1.2) listen-udp :5000
#   C (10.77.2.1) --tcp--> D (10.77.2.2) listen :5001
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

host A B C D
link A B
AB=$LB
link C D
CD=$LB
certs A B C D
start() {
	cloud_start "$1" "gate $NET_TMP/$1.gate" "rekey_interval 1s" \
		"conn_keepalive 200ms" "${@:2}"
}
start B "listen-udp $AB 5000"
start A "connect-udp $AB 5000" "conn_retry 500ms"
start D "listen $CD 5001"
start C "connect $CD 5001" "conn_retry 500ms"
wait_for 15 links_up A B || fail "no link A - B"
wait_for 15 links_up C D || fail "no link C - D"
grep -q 'transport=udp' "$NET_TMP/A.status" || fail "A - B is not udp"
grep -q 'transport=tcp' "$NET_TMP/C.status" || fail "C - D is not tcp"
cat_listen B b 1 0b
cat_listen D d 1 0d
wait_for 5 has_route A 1/0b/8 B || fail "A has no route to B's gate"
wait_for 5 has_route C 1/0d/8 D || fail "C has no route to D's gate"

# N numbered packets over 4 s on each link: about 4 rekeys each
N=2000
paced() {
	python3 -c 'import sys, time
n = int(sys.argv[1])
for i in range(n):
	print("pkt %d" % i, flush=True)
	time.sleep(4.0 / n)' "$N"
}
log_mark A; log_mark B; log_mark C
paced | timeout 20 ip netns exec "$(ns A)" "$CLOUDCAT" -gate "$NET_TMP/A.gate" \
	-instance 1 -address 0a -to 0b &
pa=$!
paced | timeout 20 ip netns exec "$(ns C)" "$CLOUDCAT" -gate "$NET_TMP/C.gate" \
	-instance 1 -address 0c -to 0d
wait "$pa" || fail "cloudcat A failed"
got() { [ "$(grep -c 'pkt ' "$NET_TMP/$1.out")" -ge "$N" ]; }
wait_for 5 got b
wait_for 5 got d
nb=$(grep -c 'pkt ' "$NET_TMP/b.out")
nd=$(grep -c 'pkt ' "$NET_TMP/d.out")
rk_udp=$(log_since A | grep -c 'new DTLS session in use')
rk_tcp=$(log_since C | grep -c 'keys updated')
say "udp: $nb/$N packets, $rk_udp rekeys; tcp: $nd/$N packets, $rk_tcp key updates"
[ "$rk_udp" -ge 2 ] || fail "the UDP link rekeyed $rk_udp times (want >= 2)"
[ "$rk_tcp" -ge 2 ] || fail "the TCP link updated keys $rk_tcp times (want >= 2)"
[ "$nb" -eq "$N" ] || fail "UDP link lost $((N - nb)) packets while rekeying"
[ "$nd" -eq "$N" ] || fail "TCP link lost $((N - nd)) packets while rekeying"
log_since B | grep -q 'down\|closed' && fail "a link went down while rekeying"
cloud_check A B C D
say "ok"
