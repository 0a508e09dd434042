#!/bin/bash
# The port filter (udptunnel's AllowedPorts): C's tun lets in from the
# mesh only ICMP and TCP port 7000. A connects to C:7000; a connection to
# C:7001 (listening too) gets nowhere; ping passes; C counts the drops.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/tun.sh"
net_init
net_need_cloud
tun_need
command -v python3 >/dev/null || skip "no python3"

host A C
link A C
certs A C
mesh_start C
mesh_start A "connect $LB 5000"
wait_for 15 links_up A C || fail "A-C not up"
tun_start A A a -instance 5 -iface_addr 10.20.0.1/24
tun_start C C c -instance 5 -iface_addr 10.20.0.3/24 -allow_port 7000/tcp
wait_for 5 tun_up A || fail "A's TUN is not up"
wait_for 5 tun_up C || fail "C's TUN is not up"
wait_for 10 pings4 A 10.20.0.3 || fail "ping A -> C did not pass the filter"

cat >"$NET_TMP/listen.py" <<'PY'
import socket, sys
ss = []
for port in sys.argv[2:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(port))); s.listen(4); ss.append(s)
print("listening", flush=True)
import select, time
end = time.time() + 60
while time.time() < end:
    r, _, _ = select.select(ss, [], [], 1)
    for s in r:
        c, _ = s.accept(); c.sendall(b"hello\n"); c.close()
PY
run_in C listen python3 "$NET_TMP/listen.py" 10.20.0.3 7000 7001
wait_for 5 grep -q listening "$NET_TMP/listen.log" || fail "listener did not start"
connect() {
	in_ns A timeout 5 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print(s.recv(16).decode().strip())' 10.20.0.3 "$1" 2>/dev/null
}
[ "$(connect 7000)" = hello ] || fail "TCP to the allowed port 7000 failed"
connect 7001 && fail "TCP to port 7001 passed the filter"
say "TCP 7000 passes, 7001 does not, ping passes"
proc_stop "$PID_tun_c" TERM 5 || true
grep -Eiq "[1-9][0-9]* .*(filter|not allowed)" "$NET_TMP/tun-c.log" ||
	fail "C's tun did not count what its filter dropped"
say "$(grep -Ei "filter|not allowed" "$NET_TMP/tun-c.log" | tail -1)"
cloud_check A C
say "ok"
