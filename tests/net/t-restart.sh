#!/bin/bash
# A peer restarts: B is stopped (SIGTERM) and started again; A notices the
# lost link and the link is back up within conn_retry (+ handshake slack).
# With LINK_UDP=1 (t-udp-restart.sh) the link is UDP (DTLS 1.2).
#
#   A (10.77.1.1) ---------> B (10.77.1.2) $LISTEN :5000
#        $CONNECT, conn_retry 2s   stop, start
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

RETRY_MS=2000
SLACK_MS=1500

host A B
link A B
certs A B
cloud_start B "$LISTEN $IP_B 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "$CONNECT $IP_B 5000" "conn_retry ${RETRY_MS}ms"
wait_for 15 links_up A B || fail "no link A <-> B after 15 s"
link_over A B || fail "A's link to B is not over $TRANSPORT"

rc=0
cloud_stop B TERM 2 || rc=$?
[ "$rc" -eq 0 ] || fail "B: exit status $rc after SIGTERM"
a_lost() { cloud_check A; ! link_up A B; }
wait_for 3 a_lost || fail "A still shows the link to B 3 s after B stopped"

rm -f "$NET_TMP/B.status"
t0=$(now_ms)
cloud_start B "$LISTEN $IP_B 5000"
wait_for 15 links_up A B || fail "no link A <-> B 15 s after B restarted"
ms=$(($(now_ms) - t0))
link_over A B || fail "A's new link to B is not over $TRANSPORT"
say "link back up $ms ms after B restarted (conn_retry $RETRY_MS ms)"
[ "$ms" -le $((RETRY_MS + SLACK_MS)) ] ||
	fail "reconnect took $ms ms > conn_retry $RETRY_MS + $SLACK_MS ms"
say "ok"
