#!/bin/bash
# Instance grants (issue 11: certificate rights). A's certificate grants
# instances 7 and 8, B's instance 8 only; R relays and has no grants (it
# may use any instance). X, the hostile member, holds a certificate that
# grants instance 8 and announces three routes of its own in instance 1.
#
#   X (hostile route-flood 3, grants 8)
#   |
#   A (grants 7,8) ---- R (no grants) ---- B (grants 8)
#   a7 7/0a  a8 8/0a     r7 7/0c            b7 7/0b  b8 8/0b
#
# B's gate in instance 7 is refused (logged once per gate, its packets
# counted as drops) and its address is not announced; A's traffic and
# broadcasts in instance 8 reach B, those in instance 7 stop at B's
# daemon (R's instance-7 gate sees the broadcast go by); B's gate cannot
# send to A's instance-7 address. X's routes are refused by A, logged
# once, and reach nobody. `cloudctl origins` shows every node's grants.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud
CLOUDCTL=$top_builddir/tools/cloudctl
[ -x "$CLOUDCTL" ] || hard_error "$CLOUDCTL: not built"

GRANTS_A="--instance 7 --instance 8"
GRANTS_B="--instance 8"
GRANTS_X="--instance 8"
GRANTS_R=""
trust_hub R
host B
certs B
link R B
RB=$LA
mesh_start A
trust_join R
mesh_start B "$CONNECT $RB 5000"
wait_for 15 links_up R B || fail "R-B not up"

# refused7 ID: how often B logged that its gate ID uses instance 7
refused7() {
	grep -c "gate $1 ([^)]*): instance 7 is not granted by this node's certificate: its addresses are not announced and its packets are dropped" \
		"$NET_TMP/B.log"
}

# ---- B's instance-7 gate: refused, not announced -------------------------
cat_listen B b7 7 0b
wait_for 10 log_has B "instance 7 is not granted" ||
	fail "B did not refuse its instance-7 gate"
g7=$(sed -n 's/.*gate \([0-9]*\) (.*instance 7 is not granted.*/\1/p' \
	"$NET_TMP/B.log" | head -n 1)
# B announces its instance-8 gate after the refused one, over the same
# links: once A has the later route, it would have the earlier.
cat_listen B b8 8 0b
cat_listen A a7 7 0a
cat_listen A a8 8 0a
cat_listen R r7 7 0c
wait_for 10 has_route A 8/0b/8 R || fail "A has no route to B's 8/0b/8"
wait_for 10 has_route B 7/0a/8 R || fail "B has no route to A's 7/0a/8"
wait_for 10 has_route A 7/0c/8 R || fail "A has no route to R's 7/0c/8"
no_route A 7/0b/8 || fail "A has a route to B's instance-7 gate: $(grep 'addr=7/0b/8' "$NET_TMP/A.status")"
no_route R 7/0b/8 || fail "R has a route to B's instance-7 gate"
grep -q "^gate id=$g7 name=cloudcat addrs=0 " "$NET_TMP/B.status" ||
	fail "B's instance-7 gate $g7 holds addresses: $(grep '^gate ' "$NET_TMP/B.status")"
say "B's instance-7 gate $g7 refused, its address not announced"

# ---- A's traffic: instance 8 reaches B, instance 7 does not --------------
cat_send A 7 0e 0b "unicast in 7" || fail "A: cloudcat send in 7 failed"
cat_send A 7 0e "" "broadcast in 7" || fail "A: broadcast in 7 failed"
cat_send A 8 0e "" "broadcast in 8" || fail "A: broadcast in 8 failed"
cat_send A 8 0e 0b "unicast in 8" || fail "A: cloudcat send in 8 failed"
wait_for 10 out_has b8 "unicast in 8" || fail "A's unicast in 8 did not reach B"
out_has b8 "broadcast in 8" || fail "A's broadcast in 8 did not reach B"
wait_for 5 out_has r7 "broadcast in 7" ||
	fail "A's broadcast in 7 did not reach R (B's neighbour)"
# R passed the broadcast on to B before this marker: B has had both
cat_send A 8 0e 0b "marker from a8" || fail "A: cloudcat send in 8 failed"
wait_for 10 out_has b8 "marker from a8" || fail "A's marker in 8 did not reach B"
out_has b7 "in 7" && fail "B's instance-7 gate got: $(cat "$NET_TMP/b7.out")"
say "A -> B: instance 8 delivered; instance 7 (unicast, broadcast) not"

# ---- B's gate sends in instance 7: dropped, logged once -------------------
# (its stdin, a FIFO we hold open, keeps it attached while we look)
mkfifo "$NET_TMP/b7s.in" || hard_error "mkfifo"
exec 7<>"$NET_TMP/b7s.in"
run_in B cat-b7s sh -c "exec '$CLOUDCAT' -gate '$NET_TMP/B.gate' \
	-instance 7 -address 0d -to 0a <'$NET_TMP/b7s.in'"
printf 'from b7 %s\n' 1 2 3 >&7
wait_for 10 eval 'grep -q "^gate .* name=cloudcat addrs=0 .* drops=3 " "$NET_TMP/B.status"' ||
	fail "B's status shows no instance-7 gate with 3 drops: $(grep '^gate ' "$NET_TMP/B.status")"
gid=$(sed -n 's/^gate id=\([0-9]*\) .* addrs=0 .* drops=3 .*/\1/p' "$NET_TMP/B.status")
[ "$(refused7 "$gid")" = 1 ] ||
	fail "B logged gate $gid's instance-7 refusal $(refused7 "$gid") times, not once"
[ "$(refused7 "$g7")" = 1 ] ||
	fail "B logged gate $g7's refusal $(refused7 "$g7") times, not once"
cat_send B 8 0d 0a "marker from b8" || fail "B: cloudcat send in 8 failed"
wait_for 10 out_has a8 "marker from b8" || fail "B's unicast in 8 did not reach A"
out_has a7 "from b7" && fail "B's instance-7 gate reached A: $(cat "$NET_TMP/a7.out")"
say "B's instance-7 packets dropped (gate $gid: drops=3), logged once"

# ---- X announces outside its grants: refused on A, logged once ----------
hostile_start route-flood 3 -duration 30
wait_for 15 hostile_said '^acked flood' || fail "X did not get to flood"
xrefused() { sed -n 's/^origin name=X .* refused=\([0-9]*\)$/\1/p' "$NET_TMP/A.status"; }
wait_for 5 eval '[ "$(xrefused)" -ge 3 ] 2>/dev/null' ||
	fail "A does not count X's 3 refused routes: $(grep '^origin name=X ' "$NET_TMP/A.status")"
n=$(grep -c "route 1/f00000[0-9a-f]*/32: node X (id [0-9a-f]\{16\}) may not announce it: its certificate grants 8; refused (logged once per origin)" "$NET_TMP/A.log")
[ "$n" = 1 ] || fail "A logged X's refusal $n times, not once"
for h in A R B; do
	grep -q '^route addr=1/f0' "$NET_TMP/$h.status" &&
		fail "$h has a route of X's: $(grep '^route addr=1/f0' "$NET_TMP/$h.status")"
done
say "X's 3 routes outside its grants refused by A, logged once"

# ---- cloudctl origins: each node's grants --------------------------------
status_fresh B || fail "B's status is not rewritten"
o=$("$CLOUDCTL" -f "$NET_TMP/B.status" origins) || fail "cloudctl failed"
for l in "B id=[0-9a-f]{16} grants=8 state=self refused=0" \
	"A id=[0-9a-f]{16} grants=7,8 state=ok refused=0" \
	"R id=[0-9a-f]{16} grants=any state=ok refused=0"; do
	grep -Eq "^origin +name=$l$" <<<"$o" ||
		fail "cloudctl origins on B: no \"$l\" in: $o"
done
o=$("$CLOUDCTL" -f "$NET_TMP/A.status" origins) || fail "cloudctl failed"
grep -Eq "^origin +name=X id=[0-9a-f]{16} grants=8 state=ok refused=[1-9][0-9]*$" <<<"$o" ||
	fail "cloudctl origins on A: X's line is wrong: $o"
say "cloudctl origins: $(tr -s ' ' <<<"$o" | cut -d' ' -f2,4 | tr '\n' ' ')"

cloud_check A B R
say "ok"
