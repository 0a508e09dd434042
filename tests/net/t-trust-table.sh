#!/bin/bash
# A table bigger than a link's control queue still reaches a new peer
# (issue 11: the full table is streamed). X holds a valid certificate and
# announces 75000 signed prefixes of its own to A, which takes any number
# (max_remote_routes 0, max_origin_routes 0): 8.7 MB of FR_ROUTE entries
# (116 bytes each with an Ed25519 signature), past the 8 MiB control
# queue. Then C links to A: the link must come up and C must hold all
# 75000 routes within 60 s (A and C each check 75000 signatures, about
# 9 s on one core of this machine; 180 s with ASan).
#
#   X (hostile -mode route-flood 75000) ----- A ----- C
#
# Pings go every 200 ms and links die after 3 s of silence: each RTT
# sample changes the metric of every route via X, which A cannot queue to
# C while C is still checking the table (it sends C those routes again,
# streamed, instead), and C's pongs wait behind what A sends.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_alone
net_need_cloud
N=75000
# The status of 75 000 routes takes a loop iteration: once a second, and
# without the route lines (the cloud line counts them). Under ASan A's
# loop still stalled 0.4 to 2.7 s at a time while C synced, and X, a
# hostile that speaks only when pinged, timed out at 3 s (2 runs in 3):
# its link may wait 10 s here.
BIG=("max_remote_routes 0" "max_origin_routes 0" "status-interval 1s"
	"status-verbose 0" "conn_timeout 10s")
export CLOUD_CERT_KEY=ed25519	# the fastest signatures to check

# With ASan, A's and C's share of the work (all but the signature checks)
# is some 3 times slower: 18-41 s for X's table alone on this machine
# (12.5 s without), and C took 57 s, or more than 120 s when its link
# restarted once on the way.
WAIT=60
grep -q __asan_init "$CLOUD" 2>/dev/null && WAIT=180

trust_hub C
# A asks for a snapshot every 10 ms: it must space them out by what they
# cost (20 times as long), or it would do little else.
mesh_start A "${BIG[@]}" "status-interval 10ms"
t0=$(now_ms)
hostile_start route-flood $N -duration $((2 * WAIT + 30))
wait_for $WAIT hostile_said '^acked flood' ||
	fail "X did not get to flood in $WAIT s: A holds $(route_count A) routes"
wait_for 10 eval '[ "$(route_count A)" -ge $N ]' ||
	fail "A holds $(route_count A) routes, not X's $N"
say "A took X's $N routes in $(($(now_ms) - t0)) ms"
t0=$(now_ms)
mesh_start C "connect $AT_C 5000" "${BIG[@]}"
all_there() { [ "$(route_count C)" -ge $N ] 2>/dev/null; }
wait_for $WAIT all_there ||
	fail "C holds $(route_count C) of A's $N routes after $WAIT s, A $(route_count A); A closed C's link $(grep -c 'link C .*down' "$NET_TMP/A.log") times; A's links down: $(grep ' down' "$NET_TMP/A.log" | tr '\n' ';')"
say "C holds all $N routes $(($(now_ms) - t0)) ms after it started"
log_has C ' down' && fail "C's link went down on the way"
log_has A 'status-file: the snapshot took' ||
	fail "A did not space out the snapshots of its $N routes"
cloud_check A C
say "ok"
