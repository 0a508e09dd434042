#!/bin/bash
# Seqno requests cannot drive another node's seqno round the circle
# (issue 11: seqno requests are rate limited). X holds a valid certificate
# and links to A; it asks for V's prefix 1/0b/8 at seqno + 32767 every
# 10 ms and on every seqno it hears, 300 times. V's seqno, as A and X
# see it, may move by at most 10 from where it was, and never wrap.
#
#   V ----- A ----- X (hostile -mode seqreq-flood 1/0b/8)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud
MOVE_MAX=10

trust_hub V
mesh_start A
trust_join V
cat_listen V v 1 0b
wait_for 10 has_route A 1/0b/8 V || fail "A has no route to V's gate"
s0=$(route_field A 1/0b/8 seqno)
hostile_start seqreq-flood 1/0b/8 -duration 5
wait_for 15 hostile_said '^done' || fail "X did not finish"
say "X: $(grep '^done' "$NET_TMP/hostile.log")"
hostile_said '^seqreq' || fail "X sent no seqno request"
status_fresh A || fail "A stopped writing its status"
# every seqno X heard, then A's last
seen=$(sed -n 's/^route 1\/0b\/8 .* seqno=\([0-9]*\) .*/\1/p' \
	"$NET_TMP/hostile.log" | tr '\n' ' ')
seen="$seen$(route_field A 1/0b/8 seqno)"
say "V's seqno was $s0; $(echo $seen | wc -w) seen during the flood: $(echo $seen | cut -c1-120)..."
for s in $seen; do
	d=$(((s - s0) & 0xffff))
	[ "$d" -le "$MOVE_MAX" ] ||
		fail "V's seqno went from $s0 to $s (by $d mod 65536) under X's requests"
done
probe_until A 0a 0b v "$(now_ms)" || fail "A's traffic to 0b does not reach V"
cloud_check A V
say "ok: V's seqno moved by at most $MOVE_MAX"
