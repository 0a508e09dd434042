#!/bin/bash
# The gate socket file: created with gate_mode; a second daemon on the
# same path is refused while the first lives; a stale file left by a
# killed daemon is replaced; max_gates bounds attached gates.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud

host A
certs A
sock=$NET_TMP/A.gate
mesh_start A "gate_mode 0600" "max_gates 2"
wait_for 5 test -S "$sock" || { cloud_check A; fail "no gate socket"; }
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "gate socket mode $mode, not 600"

# a second daemon on the same gate path: one clear error, exit non-zero
in_ns A timeout 10 "$CLOUD" -key "$CERTS/A.key" -cert "$CERTS/A.crt" \
	-ca "$CERTS/ca.crt" -gate "$sock" >"$NET_TMP/second.log" 2>&1 &&
	fail "a second daemon started on a live gate socket"
grep -q "another daemon is listening" "$NET_TMP/second.log" ||
	fail "second daemon's error: $(cat "$NET_TMP/second.log")"
cloud_check A

# max_gates 2: a third gate is turned away at once
cat_listen A g1 1 01
cat_listen A g2 1 02
wait_for 5 log_has A 'gate 2 .*attached' || fail "second gate not attached"
out=$(timeout 10 ip netns exec "$(ns A)" "$CLOUDCAT" -gate "$sock" \
	-instance 1 -address 03 -count 1 2>&1 </dev/null) &&
	fail "a third gate was served past max_gates"
log_has A 'max_gates' || fail "A did not log the max_gates refusal"
say "third gate refused: $out"

# killed without cleanup: the stale socket file is replaced on restart
cloud_stop A KILL 2
[ -S "$sock" ] || fail "expected a stale socket file after SIGKILL"
mesh_start A
wait_for 5 log_has A 'replaced a stale socket file' ||
	fail "restarted daemon did not replace the stale socket"
cat_send A 1 0a 0a "x" >/dev/null || fail "gate unusable after replacing the stale file"
cloud_check A
say "ok"
