#!/bin/bash
# Two nodes link over UDP (DTLS): A connects to B; both status files show
# an up udp link with a measured RTT and a probed path MTU; A also holds a
# TCP link to B at the same time (a node may hold both).
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen-udp :5000, listen :5001
#        connect-udp 10.77.1.2 5000, connect 10.77.1.2 5001
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B
cloud_start B "listen-udp $IP_B 5000" "listen $IP_B 5001"
wait_for 5 listening B 5001 || { cloud_check B; fail "B not listening"; }
t0=$(now_ms)
cloud_start A "connect-udp $IP_B 5000" "conn_retry 500ms"
udp_up() { grep "^link peer=$2 " "$NET_TMP/$1.status" 2>/dev/null |
	grep ' state=up' | grep ' transport=udp' | grep -Eq ' rtt_us=[0-9]+'; }
wait_for 15 udp_up A B || fail "no udp link A -> B after 15 s"
wait_for 5 udp_up B A || fail "no udp link B -> A"
say "udp link up in $(($(now_ms) - t0)) ms"
grep '^link ' "$NET_TMP/A.status" "$NET_TMP/B.status"
# veth MTU 1500: the probes find 1472 bytes of UDP payload
wait_for 5 grep -q '^link peer=B .*transport=udp mtu=1472 ' "$NET_TMP/A.status" ||
	fail "A's path MTU to B is not 1472"
wait_for 5 grep -q '^link peer=A .*transport=udp mtu=1472 ' "$NET_TMP/B.status" ||
	fail "B's path MTU to A is not 1472"
grep -q '^link peer=B .* dir=out' "$NET_TMP/A.status" || fail "A's link is not dir=out"
cloud_check A B
say "ok"
