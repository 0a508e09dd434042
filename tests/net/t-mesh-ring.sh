#!/bin/bash
# A ring of five: traffic from B to D goes through C. Kill C's daemon:
# the routes through it are withdrawn and traffic resumes the other way
# round; the time it took is printed.
#
#        A
#      /   \
#     B     E
#     |     |
#    (C) -- D        B -> C -> D, then B -> A -> E -> D
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

ring_abcde
cat_listen D d 1 0d
wait_for 10 has_route B 1/0d/8 C || fail "B does not route 0d via C"
cat_send B 1 0b 0d "before" || fail "cloudcat B"
wait_for 5 out_has d before || fail "D did not get B's line through C"

t0=$(now_ms)
cloud_stop C KILL 2
probe_until B 0b 0d d "$t0" || fail "no traffic B -> D 15 s after C died"
say "traffic B -> D resumed $PROBE_MS ms after C was killed ($PROBES probes)"
wait_for 5 has_route B 1/0d/8 A || fail "B's route to 0d is not via A"
grep '^route addr=1/0d/8' "$NET_TMP/B.status"
grep -q '^route addr=1/0d/8 via=A .* hops=3 ' "$NET_TMP/B.status" ||
	fail "B's new route to 0d is not 3 hops"
cloud_check A B D E
say "ok"
