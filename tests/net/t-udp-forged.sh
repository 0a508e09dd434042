#!/bin/bash
# Forged records cannot break a live UDP link: 3000 datagrams shaped like
# DTLS application data (type 23, DTLS 1.2, random epoch, sequence, length
# and body) arrive at B both from A's own address and port (raw socket)
# and from another port of A (which makes B try them for roaming). GnuTLS
# drops what does not decrypt; the link stays up, traffic still passes,
# and the datagrams are counted, not logged.
#
#   A (10.77.1.1) --connect-udp--> B (10.77.1.2) listen-udp :5000
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
log_mark B
host A B
link A B
certs A B
cloud_start B "listen-udp $IP_B 5000" "gate $NET_TMP/B.gate" "conn_keepalive 200ms"
cloud_start A "connect-udp $IP_B 5000" "gate $NET_TMP/A.gate" "conn_keepalive 200ms"
wait_for 15 links_up A B || fail "no link"
aport=$(grep -o '^link peer=A .*addr=[0-9.]*:[0-9]*' "$NET_TMP/B.status" | sed 's/.*://')
cat_listen B b 1 0b
wait_for 5 has_route A 1/0b/8 B || fail "no route"
# app-data-typed garbage from A's own address+port (raw) and from new ports
in_ns A python3 -c 'import socket, struct, sys, os, random
src, dst, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
	n = random.randint(1, 1400)
	body = bytes([23, 0xfe, 0xfd, 0, random.randint(0,3)]) + os.urandom(8) + struct.pack("!H", random.randint(0, 2000)) + os.urandom(n)
	r.sendto(struct.pack("!HHHH", sport, 5000, 8 + len(body), 0) + body, (dst, 0))
	u.sendto(body, (dst, 5000))' "$IP_A" "$IP_B" "$aport"
# data is best effort: the flood may still fill B's socket buffer, so
# probe until one gets through
probe_until A 0a 0b b "$(now_ms)" || fail "traffic stopped after garbage"
say "traffic passes ${PROBE_MS} ms after the flood ($PROBES probes)"
log_has A ' down' && fail "link went down"
log_has B ' down' && fail "link went down (B)"
garbage() { sed -n "s/^udp garbage=\([0-9]*\) .*/\1/p" "$NET_TMP/B.status"; }
counted() { [ "$(garbage)" -ge 2000 ] 2>/dev/null; }
wait_for 3 counted
n=$(garbage)
say "B counted $n garbage datagrams"
[ "${n:-0}" -ge 2000 ] || fail "B counted ${n:-0} garbage datagrams, sent 3000 from new ports"
[ "$(log_since B | wc -l)" -lt 200 ] || fail "B logged per garbage datagram"
cloud_check A B
say "ok"
