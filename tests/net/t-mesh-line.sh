#!/bin/bash
# A line of four daemons: a cloudcat at one end reaches a cloudcat at the
# other end across two relays, and the answer comes back.
#
#   [cat 0a] A ---- B ---- C ---- D [cat 0d]
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

host A B C D
link A B; AB=$LB
link B C; BC=$LB
link C D; CD=$LB
certs A B C D
mesh_start D
mesh_start C "connect $CD 5000"
mesh_start B "connect $BC 5000"
mesh_start A "connect $AB 5000" "control $NET_TMP/A.ctl"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
wait_for 15 links_up C D || fail "C-D not up"

cat_listen D d 1 0d
cat_listen A a 1 0a
wait_for 10 has_route A 1/0d/8 B || fail "A has no route to 0d via B"
wait_for 10 has_route D 1/0a/8 C || fail "D has no route to 0a via C"
grep '^route' "$NET_TMP/A.status"
grep -q '^route addr=1/0d/8 via=B .* hops=3 ' "$NET_TMP/A.status" ||
	fail "route to 0d is not 3 hops"

# cloudctl asks A's daemon itself through its control socket.
CTL=$top_builddir/tools/cloudctl
[ "$(stat -c %a "$NET_TMP/A.ctl")" = 600 ] || fail "control socket is not mode 0600"
"$CTL" -s "$NET_TMP/A.ctl" routes | grep -q 'route  addr=1/0d/8 via=B ' ||
	fail "cloudctl -s: no route to 0d via B"
"$CTL" -s "$NET_TMP/A.ctl" -json links | grep -q '"kind":"link","peer":"B"' ||
	fail "cloudctl -s -json: no link to B"
say "cloudctl -s: $("$CTL" -s "$NET_TMP/A.ctl" links | head -1)"

cat_send A 1 0a 0d "ping from A" || fail "cloudcat A failed"
wait_for 5 out_has d "ping from A" || fail "D did not receive A's line"
grep -q "^0a	ping from A$" "$NET_TMP/d.out" || fail "D's line: $(cat "$NET_TMP/d.out")"
cat_send D 1 0d 0a "pong from D" || fail "cloudcat D failed"
wait_for 5 out_has a "pong from D" || fail "A did not receive D's answer"
grep -q "^0d	pong from D$" "$NET_TMP/a.out" || fail "A's line: $(cat "$NET_TMP/a.out")"

# A destination nobody owns goes nowhere, and a wrong instance too.
cat_send A 2 0a 0d "other instance" || fail "cloudcat A (instance 2)"
sleep 0.5
out_has d "other instance" && fail "instance 2 leaked into instance 1"
cloud_check A B C D
say "ok"
