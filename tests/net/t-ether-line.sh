#!/bin/bash
# The classic VPN across a relay: A and C can reach only B on the
# underlay; their TAPs are one Ethernet through B's daemon.
#
#  tap0 10.88.0.1        (relay)        tap0 10.88.0.3
#  A [cloud+ether] ---- B [cloud] ---- C [cloud+ether]
#
# ping A -> C (ARP resolves across the relay), full-size frames with
# DF set, and a 50 MB TCP transfer that must arrive with the same hash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

host A B C
link A B; AB=$LB
link B C; BC=$LA
certs A B C
mesh_start B
mesh_start A "connect $AB 5000"
mesh_start C "connect $BC 5000"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
ether_start A A a -iface_addr 10.88.0.1/24
ether_start C C c -iface_addr 10.88.0.3/24
wait_for 5 tap_up A || fail "A's TAP is not up"
wait_for 5 tap_up C || fail "C's TAP is not up"

wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed"
in_ns A ip neigh show 10.88.0.3 | grep -q lladdr || fail "A did not learn C's MAC"
say "ping A -> C ok; $(in_ns A ping -c 5 -i 0.1 -q 10.88.0.3 | tail -1)"
pings A 10.88.0.3 -s 1472 -M do || fail "1500-byte frames with DF do not pass"
say "full-size frames (ping -s 1472 -M do) pass"
pings A 10.88.0.3 -s 1473 -M do && fail "a frame above the MTU passed with DF set"

# 50 MB of random bytes over TCP, hashed on both ends.
head -c 50000000 /dev/urandom >"$NET_TMP/blob"
want=$(sha256sum <"$NET_TMP/blob" | cut -d' ' -f1)
cat >"$NET_TMP/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.88.0.3", 7000)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
PY
run_in C sink python3 "$NET_TMP/sink.py"
sink=$LAST_PID
wait_for 5 listening C 7000 || fail "sink not listening"
t0=$(now_ms)
in_ns A timeout 60 python3 -c '
import socket, sys
s = socket.create_connection(("10.88.0.3", 7000), timeout=30)
with open(sys.argv[1], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR); s.recv(1)
' "$NET_TMP/blob" || fail "sending 50 MB failed"
wait_for 30 grep -q " " "$NET_TMP/sink.log" || fail "sink reported nothing"
ms=$(($(now_ms) - t0))
read -r n got <"$NET_TMP/sink.log"
[ "$n" = 50000000 ] || fail "received $n bytes, not 50000000"
[ "$got" = "$want" ] || fail "hash mismatch: sent $want, got $got"
say "50 MB A -> C intact in $ms ms ($((50000 * 8 / (ms ? ms : 1))) Mbit/s)"
cloud_check A B C
say "ok"
