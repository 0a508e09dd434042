#!/bin/bash
# Clean shutdown: SIGTERM (and SIGINT) end the daemon with status 0 within
# 2 s, with a live link and a gate socket, and remove the gate socket.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen :5000, gate B.gate
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A B
link A B
certs A B
gate=$NET_TMP/B.gate
cloud_start B "listen $IP_B 5000" "gate $gate"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
wait_for 15 links_up A B || fail "no link A <-> B after 15 s"
[ -S "$gate" ] || fail "no gate socket $gate"

stop() {
	local n=$1 sig=$2 t0 rc=0 ms
	t0=$(now_ms)
	cloud_stop "$n" "$sig" 2 || rc=$?
	ms=$(($(now_ms) - t0))
	say "$n: SIG$sig -> exit $rc in $ms ms"
	[ "$rc" -eq 0 ] || fail "$n: exit status $rc after SIG$sig"
	[ "$ms" -le 2200 ] || fail "$n: took $ms ms to exit"
}
stop B TERM
[ -e "$gate" ] && fail "gate socket $gate left behind"
stop A INT
say "ok"
