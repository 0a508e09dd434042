#!/bin/bash
# Gates that flood malformed frames are disconnected; the daemon lives on
# and the well-behaved gates keep talking across the mesh.
#
#   [cat 0a] A ---- B [cat 0b]
#   [flood]  A                  garbage, oversize frames, bad announces
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

host A B
link A B
certs A B
mesh_start B
mesh_start A "connect $LB 5000"
wait_for 15 links_up A B || fail "A-B not up"
cat_listen B b 1 0b
wait_for 10 has_route A 1/0b/8 B || fail "A has no route to 0b"

# Each abuser connects, sends its bytes as fast as it can, and reports
# whether the daemon closed the connection (it must, within 5 s).
cat >"$NET_TMP/flood.py" <<'PY'
import os, socket, struct, sys, time
path, kind = sys.argv[1], sys.argv[2]
def hello():
    name = b"flood"
    p = struct.pack(">HB", 1, len(name)) + name
    return bytes([1]) + len(p).to_bytes(3, "big") + p
junk = {
    "garbage": os.urandom(65536),
    "oversize": hello() + bytes([3, 0xff, 0xff, 0xff]) + b"x" * 4096,
    "badtype": hello() + bytes([0x7f, 0, 0, 4]) + b"abcd",
    "badannounce": hello() + bytes([2, 0, 0, 9]) + b"\xff" * 9,
    "nohello": bytes([3, 0, 0, 8]) + b"\0" * 8,
}[kind]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(0.2)
end = time.time() + 5
while time.time() < end:
    try:
        s.sendall(junk)
        if s.recv(65536) == b"":
            print("closed"); sys.exit(0)
    except socket.timeout:
        continue
    except (BrokenPipeError, ConnectionResetError):
        print("closed"); sys.exit(0)
print("still open"); sys.exit(1)
PY
for kind in garbage oversize badtype badannounce nohello; do
	out=$(timeout 10 python3 "$NET_TMP/flood.py" "$NET_TMP/A.gate" $kind)
	[ "$out" = closed ] || fail "abusive gate ($kind) was not disconnected"
	say "$kind: disconnected"
done
cloud_check A B
log_has A "gate .*closing" || fail "A did not log why it closed a gate"
cat_send A 1 0a 0b "still fine" || fail "cloudcat A"
wait_for 5 out_has b "still fine" || fail "traffic stopped after the abuse"
cloud_check A B
say "ok"
