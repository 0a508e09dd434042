#!/bin/bash
# Prefix grants and require_grants (issue 11: certificate rights). G may
# announce 10.20.0.2 in instance 7, H only 10.20.0.3; H's gates claim both.
# S sets require_grants, so N, whose certificate grants nothing, may
# announce nothing there; G, which does not set it, takes N's route. The
# gates are cloudcats with 4-byte addresses (0a140002 = 10.20.0.2).
#
#   H (7:10.20.0.3/32) ---- S (grants 7, ---- G (7:10.20.0.2/32)
#   h 0a140003               require_grants   g 0a140002
#   h2 0a140002 (not H's)    yes)             |
#                            |                |
#                            N (no grants) ---+
#                            n 0a140009
#
# H does not announce 10.20.0.2 and says so; every node routes it to G
# (its origin is G, its next hop never H), and S's traffic to it reaches
# G. S refuses N's route, whichever neighbour relays it, and logs that
# once; G routes to N. The origin lines show each node's grants as S and
# G see them.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud

GRANTS_G="--prefix 7:10.20.0.2/32"
GRANTS_H="--prefix 7:10.20.0.3/32"
GRANTS_S="--instance 7"
GRANTS_N=""
host S G H N
certs S G H N
link S G; SG=$LA
link S H; SH=$LA
link S N; SN=$LA
link G N; GN=$LA
mesh_start S "require_grants yes"
mesh_start G "$CONNECT $SG 5000"
mesh_start H "$CONNECT $SH 5000"
mesh_start N "$CONNECT $SN 5000" "$CONNECT $GN 5000"
wait_for 15 links_up S G || fail "S-G not up"
wait_for 15 links_up S H || fail "S-H not up"
wait_for 15 links_up S N || fail "S-N not up"
wait_for 15 links_up G N || fail "G-N not up"

G2=7/0a140002/32 H3=7/0a140003/32 N9=7/0a140009/32
origin_id() { sed -n "s/^origin name=$2 id=\([0-9a-f]*\) .*/\1/p" \
	"$NET_TMP/$1.status"; }

# ---- H claims G's address: not announced, every node routes it to G -----
cat_listen H h2 7 0a140002
wait_for 10 log_has H "route $G2: outside this node's certificate grants: not announced" ||
	fail "H did not say it does not announce $G2"
# H announces its own address after the refused one, over the same links
cat_listen H h 7 0a140003
cat_listen G g 7 0a140002
cat_listen N n 7 0a140009
# (S may reach G directly or through N, which RTTs decide)
for v in "S $H3 H" "G $H3 S" "N $H3 S" "S $G2" "N $G2 G" "G $G2 local"; do
	set -- $v
	wait_for 10 has_route "$1" "$2" "${3:-}" ||
		fail "$1 has no route to $2 via ${3:-anyone}: $(grep "addr=$2 " "$NET_TMP/$1.status")"
done
gid=$(origin_id G G)
for x in S G N; do
	grep -q "^route addr=$G2 via=H " "$NET_TMP/$x.status" &&
		fail "$x routes $G2 to H"
	[ "$(route_field "$x" "$G2" origin)" = "$gid" ] ||
		fail "$x's route to $G2 is not G's ($gid): $(grep "addr=$G2 " "$NET_TMP/$x.status")"
	log_has "$x" "node H .*may not announce" &&
		fail "$x refused a route of H's: H announced it"
done
cat_send S 7 0a140001 0a140002 "from s to 10.20.0.2" ||
	fail "S: cloudcat send failed"
wait_for 10 out_has g "from s to 10.20.0.2" || fail "S's traffic to 10.20.0.2 did not reach G"
out_has h2 "from s" && fail "S's traffic to 10.20.0.2 reached H"
say "H's claim on $G2 not announced; S, G and N route it to G ($gid)"

# ---- require_grants: S refuses N's route, G takes it ---------------------
wait_for 10 has_route G "$N9" N || fail "G has no route to N's $N9"
nid=$(origin_id G N)
msg="route $N9: node N (id $nid) may not announce it: its certificate grants nothing (require_grants); refused (logged once per origin)"
wait_for 10 grep -qF "$msg" "$NET_TMP/S.log" ||
	fail "S did not log that it refused N's $N9"
# N's route reaches S from N and again through G: two refused, one line
nref() { sed -n 's/^origin name=N .* refused=\([0-9]*\)$/\1/p' "$NET_TMP/S.status"; }
wait_for 10 eval '[ "$(nref)" -ge 2 ] 2>/dev/null' ||
	fail "S refused N's route $(nref) times, not from both N and G"
no_route S "$N9" || fail "S routes N's $N9: $(grep "addr=$N9 " "$NET_TMP/S.status")"
[ "$(grep -c "node N (id" "$NET_TMP/S.log")" = 1 ] ||
	fail "S logged N's refusal $(grep -c "node N (id" "$NET_TMP/S.log") times, not once"
[ "$(route_field S "$G2" origin)" = "$gid" ] || fail "S lost G's route"
cat_send G 7 0a140002 0a140009 "from g to n" || fail "G: cloudcat send failed"
wait_for 10 out_has n "from g to n" || fail "G's traffic did not reach N"
say "S refused N's route ($(nref) times, logged once), kept G's; G routes to N"

# ---- the origins each node holds, with their grants -----------------------
status_fresh S || fail "S's status is not rewritten"
for l in "S grants=7 state=self" "G grants=7:10.20.0.2/32 state=ok" \
	"H grants=7:10.20.0.3/32 state=ok" "N grants=none state=ok"; do
	set -- $l
	grep -Eq "^origin name=$1 id=[0-9a-f]{16} $2 $3 refused=[0-9]+$" \
		"$NET_TMP/S.status" || fail "S: no origin line \"$l\": $(grep '^origin' "$NET_TMP/S.status")"
done
grep -Eq "^origin name=N id=$nid grants=any state=ok refused=0$" \
	"$NET_TMP/G.status" || fail "G: N's origin line is wrong: $(grep '^origin name=N' "$NET_TMP/G.status")"

cloud_check S G H N
say "ok"
