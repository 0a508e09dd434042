#!/bin/bash
# A sustained connection flood costs B little and keeps no peer out. M
# opens idle TCP connections to B for 8 s, first from one address (100 a
# second), then from 16 (300 a second); B keeps its defaults
# (max_handshakes_per_source 4, accept_rate 64, accept_rate_per_source 8,
# max_connections 256). Meanwhile A links to B in the first flood, and C
# in the second.
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen :5000
#                            B (10.77.2.1) <------ M (10.77.2.2, .10-.25)
#   C (10.77.3.1) ---------> B (10.77.3.2)         flood, idle connections
#
# Checked: the one-address flood holds 4 connections at most (it held
# ~150 before the per-source limits), B's virtual memory grows by less
# than 64 MB (9 MB a stranger before: queues were allocated before the
# handshake), B logs a handful of lines about it (one per connection
# before), both peers link during the floods, B's status counts the
# refusals, and B's fds are back after.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"
FLOOD=$top_srcdir/tests/net/connflood.py

host A B M C
link A B
link B M
IP_B2=$LA
link C B
IP_B3=$LB
certs A B C
srcs=()
for i in $(seq 10 25); do
	ip -n "$(ns M)" addr add "10.77.2.$i/24" dev v2
	srcs+=("10.77.2.$i")
done

cloud_start B "listen $IP_B 5000" "listen $IP_B2 5000" \
	"listen $IP_B3 5000"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
sleep 0.3
base=$(fd_count "$PID_B")
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
vm0=$(vm_kb "$PID_B" VmSize)

flood_done() { ! alive "$1"; }
flood_field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$NET_TMP/$1.log"; }
admit_field() {
	sed -n "s/^admit .*$1=\([0-9]*\).*/\1/p" "$NET_TMP/B.status"
}
# lines B logged since the mark about the flooder's connections (its
# debug lines left out: loglevel 3 is the tests' choice, not a user's)
flood_lines() { log_since B | grep -v ': debug: ' | grep -c ' 10\.77\.2\.'; }

# ---- one address ---------------------------------------------------------
log_mark B
run_in M flood1 python3 "$FLOOD" "$IP_B2" 5000 100 8
flood=$LAST_PID
sleep 1
t0=$(now_ms)
cloud_start A "connect $IP_B 5000" "conn_retry 1s"
wait_for 10 links_up A B || fail "no link A <-> B within 10 s of the flood"
say "A linked in $(($(now_ms) - t0)) ms under a one-address flood"
wait_for 20 flood_done "$flood" || fail "flood 1 still running after 20 s"
cat "$NET_TMP/flood1.log"
held=$(flood_field flood1 held_max)
[ -n "$held" ] || fail "flood 1 printed no result"
[ "$held" -le 4 ] ||
	fail "one address held $held connections (max_handshakes_per_source 4)"
grown=$(($(vm_kb "$PID_B" VmPeak) - vm0))
say "B: VmPeak $grown kB above VmSize before the flood"
[ "$grown" -lt 65536 ] ||
	fail "B's virtual memory grew by $grown kB under the flood"
lines=$(flood_lines)
say "B logged $lines lines about the flood"
[ "$lines" -le 20 ] || fail "B logged $lines lines about one flood"

# ---- sixteen addresses ---------------------------------------------------
log_mark B
run_in M flood2 python3 "$FLOOD" "$IP_B2" 5000 300 8 "${srcs[@]}"
flood=$LAST_PID
sleep 1
t0=$(now_ms)
cloud_start C "connect $IP_B3 5000" "conn_retry 1s"
wait_for 15 links_up C B ||
	fail "no link C <-> B within 15 s of a 16-address flood"
say "C linked in $(($(now_ms) - t0)) ms under a 16-address flood"
wait_for 20 flood_done "$flood" || fail "flood 2 still running after 20 s"
cat "$NET_TMP/flood2.log"
held=$(flood_field flood2 held_max)
[ -n "$held" ] || fail "flood 2 printed no result"
[ "$held" -le 64 ] || fail "16 addresses held $held connections (4 each)"
lines=$(flood_lines)
say "B logged $lines lines about the flood"
[ "$lines" -le 20 ] || fail "B logged $lines lines about one flood"

cloud_check A B C
links_up A B || fail "link A <-> B lost in the floods"
grep '^admit ' "$NET_TMP/B.status"
[ "$(admit_field refused_source)" -gt 0 ] || fail "no refusal by source"
[ "$(admit_field refused_rate)" -gt 0 ] || fail "no refusal by accept_rate"
fds_back() { [ "$(fd_count "$PID_B")" -le $((base + 6)) ]; }
wait_for 15 fds_back ||
	fail "B: $(fd_count "$PID_B") fds after the floods, $base before"
say "ok"
