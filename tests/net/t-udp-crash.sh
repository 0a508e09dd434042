#!/bin/bash
# A UDP peer crashes and comes back: B is killed (SIGKILL, no goodbye) and
# started again. UDP has no RST, but B answers A's records for the
# session it lost with a "no session" hint; A then asks the old session
# (a probe it must answer) and, hearing nothing for 1 s, relinks: in about
# one keepalive, long before conn_timeout. Forged hints while the link is
# alive but idle (default 5 s keepalive) change nothing: the probe is
# answered.
#
#   A (10.77.1.1) --connect-udp--> B (10.77.1.2) listen-udp :5000
#   conn_keepalive 5s (default), conn_timeout 30s, conn_retry 1s
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B
OPTS=("conn_timeout 30s" "conn_retry 1s")
cloud_start B "listen-udp $IP_B 5000" "${OPTS[@]}"
cloud_start A "connect-udp $IP_B 5000" "${OPTS[@]}"
wait_for 15 links_up A B || fail "no link A <-> B after 15 s"

# a forged "no session" alert from B's address and port, while the link
# is alive: ignored (A keeps hearing authenticated pings from B)
aport=$(grep -o '^link peer=A .*addr=[0-9.]*:[0-9]*' "$NET_TMP/B.status" |
	sed 's/.*://')
[ -n "$aport" ] || fail "no port for A's link in B's status"
log_mark A
# a raw socket, so the hint really comes from B's address and port 5000
in_ns B python3 -c 'import socket, struct, sys, time
src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
alert = bytes([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 10])
udp = struct.pack("!HHHH", 5000, dport, 8 + len(alert), 0) + alert
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for i in range(20):
	s.sendto(udp, (dst, 0))
	time.sleep(0.2)' "$IP_B" "$IP_A" "$aport"
sleep 1.5
log_since A | grep -q 'down' && fail "a forged hint took A's link down"
link_up A B || fail "A's link is not up after the forged hints"

cloud_stop B KILL 2 || true
rm -f "$NET_TMP/B.status"
t0=$(now_ms)
cloud_start B "listen-udp $IP_B 5000" "${OPTS[@]}"
wait_for 15 links_up A B || fail "no link 15 s after B restarted"
ms=$(($(now_ms) - t0))
say "link back up $ms ms after B crashed and restarted"
log_has A 'lost our session' || fail "A did not act on B's hint"
[ "$ms" -le 9000 ] ||
	fail "relink took $ms ms (keepalive 5 s, conn_timeout 30 s)"
cloud_check A B
say "ok"
