#!/bin/bash
# Rekeying under load: a line A - B - C, A-B over UDP and B-C over TCP,
# each node with cloud + ether, rekey_interval 300ms; a 200 MB transfer A -> C
# keeps the links busy (full socket buffers) while both rekey several
# times. Everything arrives intact and no link goes down.
#
#   A ==udp==> B <==tcp== C      (ether on A and C; the transfer A -> C)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

host A B C
link A B; AB=$LB
link B C; BC=$LA
certs A B C
R=("rekey_interval 300ms" "conn_keepalive 100ms")
mesh_start B "listen-udp * 5000" "${R[@]}"
mesh_start A "connect-udp $AB 5000" "${R[@]}"
mesh_start C "connect $BC 5000" "${R[@]}"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
link_over A B udp && link_over C B tcp || fail "wrong transports"
ether_start A A a -iface_addr 10.88.0.1/24
ether_start C C c -iface_addr 10.88.0.3/24
wait_for 5 tap_up A && wait_for 5 tap_up C || fail "TAPs not up"
wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed"
log_mark A; log_mark B; log_mark C
BYTES=${REKEY_BYTES:-200000000}
[ -n "${NET_WRAP:-}" ] && BYTES=20000000
xfer A C 10.88.0.3 "$BYTES"
ru=$(log_since A | grep -c 'new DTLS session in use')
rt=$(log_since C | grep -c 'keys updated')
say "$BYTES bytes A -> C intact in $XFER_MS ms, with $ru UDP rekeys and $rt TCP key updates"
[ "$ru" -ge 3 ] && [ "$rt" -ge 3 ] ||
	fail "too few rekeys during the transfer (udp $ru, tcp $rt)"
for n in A B C; do
	log_since $n | grep -q ' down' && fail "a link of $n went down while rekeying"
done
cloud_check A B C
say "ok"
