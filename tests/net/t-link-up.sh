#!/bin/bash
# Two nodes link up: A connects to B; both status files show an up link
# to the other with a measured RTT.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen :5000
#        connect 10.77.1.2 5000
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B
cloud_start B "listen $IP_B 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
t0=$(now_ms)
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "no link A <-> B after 15 s"
say "link up in $(($(now_ms) - t0)) ms"
grep '^link ' "$NET_TMP/A.status" "$NET_TMP/B.status"
grep -q '^link peer=B .* dir=out' "$NET_TMP/A.status" ||
	fail "A's link to B is not dir=out"
grep -q '^cloud name=A ' "$NET_TMP/A.status" || fail "A's cloud line"
grep -q '^cloud name=B ' "$NET_TMP/B.status" || fail "B's cloud line"
cloud_check A B
say "ok"
