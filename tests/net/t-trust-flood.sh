#!/bin/bash
# One member's flood of routes cannot crowd out another's (issue 11:
# route limits per origin). B takes at most 200 routes from A. X holds a
# valid certificate, links to A and announces 2000 prefixes of its own
# origin, which A relays to B; only then does V come up, behind A. V's
# prefix 1/0b/8 must still reach B's table, and B's traffic V's gate.
#
#   X (hostile -mode route-flood 2000)
#   |
#   A ----- B (max_remote_routes 200)
#   |
#   V
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud

trust_hub B V
mesh_start A
trust_join B "max_remote_routes 200"
hostile_start route-flood 2000 -duration 40
wait_for 15 hostile_said '^acked flood' || fail "X did not get to flood"
# A has taken the 2000 and queued them to B before anything of V's
wait_for 5 eval '[ "$(route_count A)" -ge 2000 ]' ||
	fail "A holds $(route_count A) routes, not X's 2000"
trust_join V
cat_listen V v 1 0b
wait_for 10 has_route A 1/0b/8 V || fail "A has no route to V's gate"
wait_for 5 has_route B 1/0b/8 A ||
	fail "B has no route to V's prefix 1/0b/8 after X's flood: B holds $(route_count B) routes; $(grep -c 'refused' "$NET_TMP/B.log") refusals logged, the last: $(grep 'refused' "$NET_TMP/B.log" | tail -n 1)"
probe_until B 0c 0b v "$(now_ms)" || fail "B's traffic to 0b does not reach V"
cloud_check A B V
say "ok: B routes V's prefix beside X's flood ($(route_count B) routes)"
