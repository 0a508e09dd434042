#!/bin/bash
# Restarting the relay's daemon while both ethers keep running: the
# links come back and A -> C traffic resumes. Then restarting A's own
# daemon: A's ether keeps its TAP, reconnects and re-announces.
#
#  tap0 10.88.0.1                       tap0 10.88.0.3
#  A [cloud+ether] ---- B [cloud] ---- C [cloud+ether]
#                     (restarted)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need

line_abc
ether_start A A a -iface_addr 10.88.0.1/24
ether_start C C c -iface_addr 10.88.0.3/24
wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed before the restart"

cloud_stop B TERM 2 || fail "B did not exit 0 on SIGTERM"
pings A 10.88.0.3 && fail "ping passed with B down"
t0=$(now_ms)
mesh_start B
wait_for 15 pings A 10.88.0.3 || fail "ping A -> C not back 15 s after B restarted"
say "A -> C back $(($(now_ms) - t0)) ms after B restarted"
alive "$PID_ether_a" || fail "A's ether died"
alive "$PID_ether_c" || fail "C's ether died"

# Now the daemon A's ether is attached to: ether keeps its TAP, reconnects
# to the new daemon and announces its MAC again.
cloud_stop A TERM 2 || fail "A did not exit 0 on SIGTERM"
t0=$(now_ms)
mesh_start A "connect $AB 5000"
wait_for 15 pings A 10.88.0.3 || fail "ping A -> C not back 15 s after A's daemon restarted"
say "A -> C back $(($(now_ms) - t0)) ms after A's own daemon restarted"
alive "$PID_ether_a" || fail "A's ether died with its daemon"
grep -q reconnected "$NET_TMP/ether-a.log" || fail "A's ether did not log its reconnection"
cloud_check A B C
say "ok"
