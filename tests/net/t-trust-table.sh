#!/bin/bash
# A table bigger than a link's control queue still reaches a new peer
# (issue 11: the full table is streamed). X holds a valid certificate and
# announces 200000 prefixes of its own to A, which takes any number
# (max_remote_routes 0): about 10 MB of FR_ROUTE entries, past the 8 MiB
# control queue. Then C links to A: the link must come up and C must
# hold all 200000 routes within 30 s.
#
#   X (hostile -mode route-flood 200000) ----- A ----- C
#
# A pings rarely: each RTT sample changes the metric of every route via
# X, and so would send the whole table to C again.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud
N=200000
BIG=("max_remote_routes 0" "status-interval 1s")

trust_hub C
mesh_start A "${BIG[@]}" "conn_keepalive 60s" "conn_timeout 120s"
hostile_start route-flood $N -duration 55
wait_for 20 hostile_said '^acked flood' || fail "X did not get to flood"
wait_for 5 eval '[ "$(route_count A)" -ge $N ]' ||
	fail "A holds $(route_count A) routes, not X's $N"
t0=$(now_ms)
mesh_start C "connect $AT_C 5000" "${BIG[@]}"
all_there() { [ "$(route_count C)" -ge $N ] 2>/dev/null; }
wait_for 30 all_there ||
	fail "C holds $(route_count C) of A's $N routes after 30 s; A closed C's link $(grep -c 'link C .*down' "$NET_TMP/A.log") times, the last: $(grep 'link C .*down' "$NET_TMP/A.log" | tail -n 1)"
say "C holds all $N routes $(($(now_ms) - t0)) ms after it started"
log_has C ' down' && fail "C's link went down on the way"
cloud_check A C
say "ok"
