#!/bin/bash
# A member cannot take over another node's prefix by announcing it in that
# node's name (issue 11: route updates carry the origin's signature). X
# holds a valid certificate and links to A; once it hears V's prefix
# 1/0b/8 it announces it with V's origin id, seqno + 30000, metric 0 and
# hops 0, and again whenever A goes back to V's own seqnos. A must keep
# routing 1/0b/8 towards V (via B), and A's traffic to 0b must reach V's
# gate. V is two hops from A and X one, so the forged route is the better
# one by metric (unless X's link is by far the slowest): only its origin
# is false.
#
#   V ----- B ----- A ----- X (hostile -mode forge-route 1/0b/8)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud

trust_hub B
host V
link V B; VB=$LB
certs V
mesh_start A
trust_join B
mesh_start V "connect $VB 5000"
wait_for 15 links_up V B || fail "V-B not up"
cat_listen V v 1 0b
wait_for 10 has_route A 1/0b/8 B || fail "A has no route to V's gate"
hostile_start forge-route 1/0b/8 -duration 40
wait_for 10 hostile_said '^acked forged route' ||
	fail "X did not get to forge V's route"
say "X: $(grep -m1 '^forged route' "$NET_TMP/hostile.log")"
# A chose X's route if it poisons the prefix towards X (metric infinity)
# with the forged seqno (30000 and more), or shows it: the attack has 3 s,
# 15 keepalive rounds of A's, each of which has A choose again with the
# link costs of the moment. A retraction of V's own seqno is no sign: an
# RTT spike on A-B (a loaded machine) can make the route via B unfeasible
# for a moment, and A then retracts it to everyone and asks V for a new
# seqno, as Babel says.
forged_chosen() {
	hostile_said '^route 1/0b/8 .* seqno=[0-9]{5,} metric=4294967295' ||
		has_route A 1/0b/8 X
}
if wait_for 3 forged_chosen; then
	status_fresh A
	fail "A chose X's forged route to V's prefix: A routes 1/0b/8 via $(route_field A 1/0b/8 via) (seqno $(route_field A 1/0b/8 seqno))"
fi
has_route A 1/0b/8 B ||
	fail "A routes 1/0b/8 via $(route_field A 1/0b/8 via), not via B to V"
probe_until A 0a 0b v "$(now_ms)" ||
	fail "A's traffic to 0b does not reach V ($(grep -c '^data' "$NET_TMP/hostile.log") packets went to X)"
cloud_check A B V
say "ok: A still routes 1/0b/8 via B; traffic passes after ${PROBE_MS} ms"
