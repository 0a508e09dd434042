#!/bin/bash
# Offload headers from the mesh are checked before any segmenter acts on
# them. X, a member with a valid certificate, broadcasts in instance 1 two
# offloaded TCP frames: a sound one (3000 bytes in segments of 1000) and
# one claiming gso_size 1 (8000 bytes: 8000 one-byte segments, if A's
# segmenter believed it). A's gate (cloudcat, no offload) must get the
# sound one as 3 segments and nothing of the other, which A counts.
#
#   A (cloudcat, instance 1) <------ X (hostile -mode offload 1)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/hostile.sh"
net_init
net_need_cloud

trust_hub
mesh_start A
wait_for 5 test -S "$NET_TMP/A.gate" || { cloud_check A; fail "no gate"; }
cat_listen A a 1 0a
wait_for 5 log_has A "gate .*attached" || fail "cloudcat did not attach"
hostile_start offload 1 -duration 20
wait_for 10 hostile_said '^up' || fail "X's link not up"
wait_for 10 hostile_said '^acked offload' || fail "A did not take X's frames"
status_fresh A || fail "A's status file is not rewritten"
bad=$(sed -n 's/^fwd .*offload_bad=\([0-9]*\).*/\1/p' "$NET_TMP/A.status")
size() { stat -c %s "$NET_TMP/a.out"; }
# a segment is printed as a tab, 54 bytes of headers, its payload, a newline
good() { [ "$(size)" -ge $((3 * (1 + 54 + 1000 + 1))) ]; }
wait_for 5 good || fail "A's gate got $(size) bytes, not the sound frame's 3 segments"
say "A's gate got $(size) bytes; A counted offload_bad=$bad"
[ "$(size)" -eq $((3 * (1 + 54 + 1000 + 1))) ] ||
	fail "A's gate got more than the sound frame's segments"
[ "${bad:-0}" -ge 1 ] || fail "A did not count the lying frame"
cloud_check A
say "ok"
