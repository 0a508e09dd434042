#!/bin/bash
# The control socket file: a file that is not a socket at its path is
# refused and left alone (as for gate sockets: one stale-socket probe);
# the socket is created 0600; a stale one left by a killed daemon is
# replaced; cloudctl -s reads the snapshot from it.
#
#   A (cloud, control A.ctl)
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud

host A
certs A
ctl=$NET_TMP/A.ctl
echo precious >"$ctl"
in_ns A timeout 10 "$CLOUD" -key "$CERTS/A.key" -cert "$CERTS/A.crt" \
	-ca "$CERTS/ca.crt" -control "$ctl" >"$NET_TMP/first.log" 2>&1 &&
	fail "the daemon started over a regular file at the control path"
grep -q "control: $ctl: exists and is not a socket" "$NET_TMP/first.log" ||
	fail "error for a regular file: $(cat "$NET_TMP/first.log")"
[ "$(cat "$ctl")" = precious ] || fail "the regular file was removed"
rm -f "$ctl"

umask 022
cloud_start A "control $ctl"
wait_for 5 test -S "$ctl" || { cloud_check A; fail "no control socket"; }
mode=$(stat -c %a "$ctl")
[ "$mode" = 600 ] || fail "control socket mode $mode, not 600"
cloud_stop A KILL 2
[ -S "$ctl" ] || fail "expected a stale socket file after SIGKILL"
cloud_start A "control $ctl"
wait_for 5 log_has A "control: $ctl: replaced a stale socket file" ||
	{ cloud_check A; fail "the stale control socket was not replaced"; }
out=$(in_ns A python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print(s.makefile().read())' "$ctl") || fail "cannot read the control socket"
grep -q '^cloud name=A ' <<<"$out" || fail "control snapshot: $out"
cloud_check A
say "ok"
