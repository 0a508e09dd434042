#!/bin/bash
# A client of the control socket that connects and never reads does not
# hold up the daemon: its snapshot (some 480 KB here, more than the
# socket buffer takes) is sent as it reads, from the event loop, and it is
# dropped after 5 s without progress; connections past 8 at once are
# closed at accept.
#
#   [ann 1..6: 1024 addresses each] -> A (cloud, control A.ctl)
#   [stuck: 4 clients that never read]  [reader: times a full snapshot]
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

# ann.py GATE NAME INST N: say hello, announce N two-byte addresses of
# INST, then answer keepalives until the daemon closes.
cat >"$NET_TMP/ann.py" <<'PY'
import socket, struct, sys
path, name, inst, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(struct.pack(">BHBHB", 1, 0, 3 + len(name), 1, len(name)) + name)
p = struct.pack(">H", n) + b"".join(struct.pack(">IBHH", inst, 2, 16, i) for i in range(n))
s.sendall(bytes([2]) + len(p).to_bytes(3, "big") + p)
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        sys.exit(0)
    buf += d
    while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[1:4], "big"):
        t, n = buf[0], int.from_bytes(buf[1:4], "big")
        buf = buf[4 + n:]
        if t == 4:
            s.sendall(bytes([4, 0, 0, 0]))
PY
# ctl.py SOCKET stuck N: N connections that never read, held until killed
# ("connected" once all are). ctl.py SOCKET read: one whole snapshot,
# prints its size and the milliseconds it took. ctl.py SOCKET extra:
# prints how many bytes came before the daemon closed the connection.
cat >"$NET_TMP/ctl.py" <<'PY'
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    return s
if mode == "stuck":
    held = [conn() for _ in range(int(sys.argv[3]))]
    print("connected", flush=True)
    time.sleep(3600)
t0 = time.monotonic()
s = conn()
s.settimeout(30)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(len(data), int((time.monotonic() - t0) * 1000))
PY

host A
certs A
ctl=$NET_TMP/A.ctl
mesh_start A "control $ctl"
wait_for 5 test -S "$ctl" || { cloud_check A; fail "no control socket"; }
for i in 1 2 3 4 5 6; do
	run_in A "ann$i" python3 "$NET_TMP/ann.py" "$NET_TMP/A.gate" "ann$i" $i 1024
done
routes() { [ "$(grep -c '^route addr=' "$NET_TMP/A.status")" -ge 6144 ]; }
wait_for $((10 * SLOW)) routes || fail "A: not 6144 routes"
read -r size ms < <(in_ns A python3 "$NET_TMP/ctl.py" "$ctl" read)
say "snapshot: $size bytes in $ms ms with nobody stuck"
[ "$size" -gt 400000 ] || fail "snapshot of $size bytes: too small to fill a socket buffer"

log_mark A
run_in A stuck python3 "$NET_TMP/ctl.py" "$ctl" stuck 4
wait_for 5 grep -q connected "$NET_TMP/stuck.log" || fail "stuck clients did not connect"
read -r size2 ms < <(in_ns A python3 "$NET_TMP/ctl.py" "$ctl" read)
say "snapshot: $size2 bytes in $ms ms beside 4 stuck clients"
[ "$size2" -gt 400000 ] || fail "snapshot beside stuck clients: $size2 bytes"
[ "$ms" -lt $((1500 * SLOW)) ] ||
	fail "a snapshot took $ms ms beside 4 clients that do not read"
cloud_check A

# more than 8 at once: the 9th is closed at accept (4 + 4 held + 1)
run_in A stuck2 python3 "$NET_TMP/ctl.py" "$ctl" stuck 4
wait_for 5 grep -q connected "$NET_TMP/stuck2.log" || fail "stuck2 did not connect"
read -r size3 ms < <(in_ns A python3 "$NET_TMP/ctl.py" "$ctl" read)
[ "$size3" = 0 ] || fail "a 9th client got $size3 bytes"
wait_for 5 eval 'log_since A | grep -q "8 clients already, closing a new one"' ||
	fail "no log of the 9th client turned away"

# stuck clients are dropped after 5 s without progress
dropped() { [ "$(log_since A | grep -c 'a client read nothing for 5 s, dropped')" -ge 8 ]; }
wait_for $((10 * SLOW)) dropped || fail "stuck clients not dropped: $(log_since A | grep control)"
read -r size4 ms < <(in_ns A python3 "$NET_TMP/ctl.py" "$ctl" read)
[ "$size4" -gt 400000 ] || fail "after the drops: $size4 bytes"
cloud_check A
say "ok"
