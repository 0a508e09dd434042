#!/bin/bash
# IP instances and anycast prefixes.
#  - Instance 6 (A, B, C) and instance 7 (X on A's daemon, Y on C's) share
#    one mesh and one subnet and never reach each other.
#  - B and C both announce the LAN 192.168.50.0/24 (two LANs, one CIDR,
#    a host 192.168.50.2 on each that says which it is). A's packets go
#    to the nearest owner, B; when B's tun stops they go to C.
#
#   LB -- B ---- A ---- D ---- C -- LC        X, Y: plain hosts
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/tun.sh"
net_init
net_need_cloud
tun_need
command -v python3 >/dev/null || skip "no python3"

host A B C D X Y LB LC
link A B; AB=$LA	# A's address toward B
link A D; AD=$LA
link D C; DC=$LA	# D's address toward C
certs A B C D
mesh_start A
mesh_start D "connect $AD 5000"
mesh_start B "connect $AB 5000"
mesh_start C "connect $DC 5000"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up A D || fail "A-D not up"
wait_for 15 links_up D C || fail "D-C not up"
lan B LB 192.168.50
lan C LC 192.168.50

tun_start A A a -instance 6 -iface_addr 10.20.0.1/24
tun_start B B b -instance 6 -iface_addr 10.20.0.2/24 -route 192.168.50.0/24
tun_start C C c -instance 6 -iface_addr 10.20.0.3/24 -route 192.168.50.0/24
tun_start X A x -instance 7 -iface_addr 10.20.0.5/24
tun_start Y C y -instance 7 -iface_addr 10.20.0.4/24
for n in A B C X Y; do
	wait_for 5 tun_up $n || fail "$n's TUN is not up"
done

# ---- instances ----------------------------------------------------------
wait_for 10 pings4 A 10.20.0.3 || fail "instance 6: A -> C failed"
wait_for 10 pings4 X 10.20.0.4 || fail "instance 7: X -> Y failed"
pings4 A 10.20.0.4 && fail "instance 6 reached instance 7 (A -> Y)"
pings4 X 10.20.0.3 && fail "instance 7 reached instance 6 (X -> C)"
pings4 X 10.20.0.1 && fail "instance 7 reached instance 6 (X -> A, same daemon)"
say "instances 6 and 7 never meet"

# ---- anycast: nearest owner, then the other ---------------------------------
cat >"$NET_TMP/who.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9000))
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        d, a = s.recvfrom(100)
    except socket.timeout:
        continue
    s.sendto(sys.argv[1].encode(), a)
PY
run_in LB who-b python3 "$NET_TMP/who.py" LB
run_in LC who-c python3 "$NET_TMP/who.py" LC
who() {
	in_ns A timeout 3 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(b"?", ("192.168.50.2", 9000)); print(s.recv(16).decode())' 2>/dev/null
}
answers() { [ "$(who)" = "$1" ]; }
wait_for 10 answers LB || fail "A's packets to the LAN did not reach the nearest owner B (got '$(who)')"
say "192.168.50.2 answers from B's LAN (nearest)"
proc_stop "$PID_tun_b" TERM 5 || true
t0=$(now_ms)
wait_for 5 answers LC || fail "after B's tun stopped, A's packets did not reach C's LAN (got '$(who)')"
say "after B's tun stopped: C's LAN answers, $(($(now_ms) - t0)) ms"
cloud_check A B C D
say "ok"
