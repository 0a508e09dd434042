#!/bin/bash
# A member cannot silence another node's broadcasts (issue 11: duplicate
# suppression that a forgery cannot push ahead). X holds a valid
# certificate and links to A. When V's first broadcast reaches it, X
# sends copies under V's broadcast origin with sequence + 2^31 - 1 (the
# farthest ahead a sequence can be). V's broadcasts after that must still
# reach C's gate.
#
#   V ----- A ----- C
#           |
#           X (hostile -mode forge-bcast)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud

trust_hub V C
mesh_start A
trust_join V
trust_join C
cat_listen C c 1 0c
hostile_start forge-bcast -duration 40
wait_for 10 hostile_said '^up' || fail "X's link not up"
wait_for 10 has_route A 1/0c/8 C || fail "A has no route to C's gate"
cat_send V 1 0b "" "before" || fail "cloudcat V"
wait_for 5 out_has c "before" || fail "C did not get V's first broadcast"
wait_for 5 hostile_said '^acked forged broadcasts' ||
	fail "X heard no broadcast to forge"
say "X: $(grep '^forged broadcast' "$NET_TMP/hostile.log" | tail -n 1)"
dups() { sed -n 's/^fwd .*dups=\([0-9]*\).*/\1/p' "$NET_TMP/$1.status"; }
probe_until V 0b "" c "$(now_ms)" ||
	fail "C got none of V's $PROBES broadcasts after X's forgery (A counted $(dups A) duplicates)"
say "V's broadcasts reach C again ${PROBE_MS} ms after X's forgery"
cloud_check A C V
say "ok"
