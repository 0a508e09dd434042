#!/bin/bash
# A full mesh of four: one broadcast line from A's gate arrives exactly
# once at each of the three other gates (never back at A's).
#
#     A ----- B
#     | \   / |
#     |  \ /  |
#     |  / \  |
#     C ----- D
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

host A B C D
link A B; AB=$LB
link A C; AC=$LB
link A D; AD=$LB
link B C; BC=$LB
link B D; BD=$LB
link C D; CD=$LB
certs A B C D
mesh_start A "connect $AB 5000" "connect $AC 5000" "connect $AD 5000"
mesh_start B "connect $BC 5000" "connect $BD 5000"
mesh_start C "connect $CD 5000"
mesh_start D
for p in "A B" "A C" "A D" "B C" "B D" "C D"; do
	wait_for 15 links_up $p || fail "link $p not up"
done
for n in B C D; do
	l=$(echo $n | tr 'A-Z' 'a-z')
	cat_listen $n $l 1 0$l
done
# a gate of another instance must not see it
cat_listen B other 2 0b
for n in B C D; do
	wait_for 10 has_route A 1/0$(echo $n | tr 'A-Z' 'a-z')/8 ||
		fail "A has no route to $n's gate"
done
cat_send A 1 0a "" "hello everybody" || fail "cloudcat A"
for l in b c d; do
	wait_for 5 out_has $l "hello everybody" || fail "gate $l got nothing"
done
sleep 1	# late duplicates would arrive now
for l in b c d; do
	n=$(grep -c "^0a	hello everybody$" "$NET_TMP/$l.out")
	[ "$n" -eq 1 ] || fail "gate $l got the broadcast $n times"
done
out_has other "hello" && fail "instance 2 saw an instance 1 broadcast"
cloud_check A B C D
say "ok: each of b, c, d got it exactly once"
