#!/bin/bash
# Abuse from M does not stop A from linking to B, and leaks nothing:
# M sends garbage, idles on a plain TCP connection, and opens 200 idle
# connections, while B allows 20 connections. B must close the garbage
# and the idle connection (the idle one at the latest when the handshake
# times out, HANDSHAKE_TIMEOUT_US = 10 s in cloud/proto.h).
#
#   A (10.77.1.1) ---------> B (10.77.1.2) listen :5000
#                            B (10.77.2.1) <--------- M (10.77.2.2)
#                             max_connections 20       garbage, idle,
#                                                      200 idle conns
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

host A B M
link A B
link B M
IP_B2=$LA
certs A B

cat >"$NET_TMP/abuse.py" <<'PY'
import os, select, socket, sys, time

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def closed_within(s, secs):
    """Seconds until the peer closed s, or None if still open."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                if not s.recv(65536):
                    return time.monotonic() - t0
            except OSError:
                return time.monotonic() - t0
    return None

if mode in ("garbage", "idle"):
    s = socket.create_connection((host, port), timeout=5)
    if mode == "garbage":
        try:
            for _ in range(16):
                s.sendall(os.urandom(4096))
        except OSError:
            pass
    t = closed_within(s, 15)
    print(f"{mode}: " + ("still open after 15 s" if t is None
                         else f"closed by peer after {t * 1000:.0f} ms"))
    sys.exit(0 if t is not None else 1)

n, hold = int(sys.argv[4]), float(sys.argv[5])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((host, port))
    socks.append(s)
_, w, _ = select.select([], socks, [], 3)
up = [s for s in w if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0]
closed = set()
end = time.monotonic() + hold
while time.monotonic() < end:
    live = [s for s in up if s not in closed]
    r, _, _ = select.select(live, [], [], 0.1) if live else ([], [], [])
    for s in r:
        try:
            if not s.recv(4096):
                closed.add(s)
        except OSError:
            closed.add(s)
print(f"flood: {n} opened, {len(up)} connected, {len(closed)} closed by peer")
for s in socks:
    s.close()
PY

cloud_start B "listen $IP_B 5000" "listen $IP_B2 5000" \
	"max_connections 20"
wait_for 5 listening B 5000 || { cloud_check B; fail "B not listening"; }
sleep 0.3
base=$(fd_count "$PID_B")
say "B: $base fds before the abuse"

abuse=()
run_in M garbage python3 "$NET_TMP/abuse.py" "$IP_B2" 5000 garbage
abuse+=("$LAST_PID")
run_in M idle python3 "$NET_TMP/abuse.py" "$IP_B2" 5000 idle
abuse+=("$LAST_PID")
run_in M flood python3 "$NET_TMP/abuse.py" "$IP_B2" 5000 flood 200 8
abuse+=("$LAST_PID")
sleep 0.5
say "B: $(fd_count "$PID_B") fds under abuse"

t0=$(now_ms)
cloud_start A "connect $IP_B 5000" "conn_retry 500ms"
wait_for 10 links_up A B || fail "no link A <-> B within 10 s under abuse"
say "link up in $(($(now_ms) - t0)) ms under abuse"

abusers_done() {
	local p
	for p in "${abuse[@]}"; do
		alive "$p" && return 1
	done
	return 0
}
wait_for 20 abusers_done || fail "abusers still running after 20 s"
for p in "${abuse[@]}"; do
	proc_stop "$p" TERM 1 || true
done
cat "$NET_TMP/garbage.log" "$NET_TMP/idle.log" "$NET_TMP/flood.log"
grep -q '^garbage: closed' "$NET_TMP/garbage.log" ||
	fail "B kept the garbage connection open"
grep -q '^idle: closed' "$NET_TMP/idle.log" ||
	fail "B kept an idle TCP connection open past the handshake timeout"

cloud_check B A
links_up A B || fail "link A <-> B lost after the abuse"
fds_back() { [ "$(fd_count "$PID_B")" -le $((base + 3)) ]; }
wait_for 5 fds_back ||
	fail "B: $(fd_count "$PID_B") fds after the abuse, $base before"
say "B: $(fd_count "$PID_B") fds after the abuse"
say "ok"
