#!/bin/bash
# A UDP link follows its peer to a new address: during a TCP transfer
# through the overlay, A's underlay address changes (a new address is
# added to A's veth, then the old one deleted, so A's datagrams leave from
# the new one). B moves the link to the new address on A's first
# authenticated datagram from there; the link never goes down (same link
# id, no "down" in either log) and the transfer arrives intact.
#
#  tap0 10.88.0.1                                    tap0 10.88.0.2
#  A [cloud+ether] ==== connect-udp ====> B [cloud+ether] listen-udp :5000
#   10.77.1.1 -> 10.77.1.3 (mid-transfer)   10.77.1.2
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

BYTES=24000000
RATE=8000000	# bytes/s: the transfer lasts about 3 s

host A B
link A B; IF=v$NET_LINKS
OLD=$IP_A NEW=10.77.1.3
certs A B
mesh_start B "listen-udp $IP_B 5000"
wait_for 5 log_has B "listening on $IP_B:5000 \(udp\)" ||
	{ cloud_check B; fail "B not listening on udp"; }
mesh_start A "connect-udp $IP_B 5000"
wait_for 15 links_up A B || fail "A-B not up"
link_over A B udp && link_over B A udp || fail "A-B is not a udp link"
grep -q "^link peer=A .* addr=$OLD:" "$NET_TMP/B.status" ||
	fail "B's link to A is not from $OLD: $(grep '^link' "$NET_TMP/B.status")"
link_id() { grep "^link peer=A " "$NET_TMP/B.status" | sed 's/.* id=\([^ ]*\) .*/\1/'; }
ID=$(link_id)

ether_start A A a -iface_addr 10.88.0.1/24
ether_start B B b -iface_addr 10.88.0.2/24
wait_for 5 tap_up A || fail "A's TAP is not up"
wait_for 5 tap_up B || fail "B's TAP is not up"
wait_for 10 pings A 10.88.0.2 || fail "ping A -> B failed"

# A paced transfer A -> B; the sender logs "quarter" after a quarter.
head -c "$BYTES" /dev/urandom >"$NET_TMP/blob"
WANT=$(sha256sum <"$NET_TMP/blob" | cut -d' ' -f1)
cat >"$NET_TMP/sink.py" <<'PY'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7000)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
PY
cat >"$NET_TMP/send.py" <<'PY'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
rate = float(sys.argv[3])
s = socket.create_connection((sys.argv[2], 7000), timeout=30)
t0, off, said = time.monotonic(), 0, False
while off < len(data):
    s.sendall(data[off:off + 65536]); off += 65536
    if not said and off >= len(data) // 4:
        print("quarter", flush=True); said = True
    ahead = off / rate - (time.monotonic() - t0)
    if ahead > 0: time.sleep(ahead)
s.shutdown(socket.SHUT_WR); s.recv(1)
print("sent", len(data), flush=True)
PY
run_in B sink python3 "$NET_TMP/sink.py" 10.88.0.2
SINK=$LAST_PID
wait_for 5 listening B 7000 || fail "sink not listening"
run_in A send python3 "$NET_TMP/send.py" "$NET_TMP/blob" 10.88.0.2 "$RATE"
SEND=$LAST_PID
wait_for 15 grep -q quarter "$NET_TMP/send.log" || fail "the transfer did not get going"

# A roams: the new address first (secondary, promoted when the old one
# goes), then the old one is deleted.
in_ns A sysctl -qw "net.ipv4.conf.$IF.promote_secondaries=1" ||
	hard_error "sysctl promote_secondaries"
in_ns A ip addr add "$NEW/24" dev "$IF" || hard_error "ip addr add $NEW"
in_ns A ip addr del "$OLD/24" dev "$IF" || hard_error "ip addr del $OLD"
in_ns A ip -4 addr show dev "$IF" | grep -q "inet $NEW/" ||
	hard_error "A lost its new address"
t0=$(now_ms)
alive "$SEND" && ! grep -q '^sent' "$NET_TMP/send.log" ||
	fail "the transfer was over before the address changed"
say "A's address changed $OLD -> $NEW during the transfer"
wait_for 10 log_has B "link A: moved from $OLD:[0-9]+ to $NEW:[0-9]+" ||
	fail "B did not log 'link A: moved from $OLD to $NEW'"
say "B: $(grep 'moved from' "$NET_TMP/B.log" | head -n 1) ($(($(now_ms) - t0)) ms)"

done_send() { ! alive "$SEND"; }
wait_for 40 done_send || fail "the sender still runs 40 s after the address change"
proc_stop "$SEND" TERM 1 || fail "the sender failed: $(cat "$NET_TMP/send.log")"
wait_for 10 grep -q " " "$NET_TMP/sink.log" || fail "sink reported nothing"
proc_stop "$SINK" TERM 1 || true
read -r n got <"$NET_TMP/sink.log"
[ "$n" = "$BYTES" ] || fail "received $n bytes, not $BYTES"
[ "$got" = "$WANT" ] || fail "hash mismatch"
say "$BYTES bytes A -> B intact across the address change"

new_addr() { grep -q "^link peer=A .* addr=$NEW:" "$NET_TMP/B.status"; }
wait_for 5 new_addr ||
	fail "B's status does not show A at $NEW: $(grep '^link' "$NET_TMP/B.status")"
links_up A B || fail "A-B not up after the move"
[ "$(link_id)" = "$ID" ] || fail "B's link to A changed id: $ID -> $(link_id)"
grep -E 'link .* down' "$NET_TMP/A.log" "$NET_TMP/B.log" &&
	fail "a link went down during the move"
[ "$(grep -c 'moved from' "$NET_TMP/B.log")" -eq 1 ] ||
	fail "B logged more than one move: $(grep 'moved from' "$NET_TMP/B.log")"
say "B: $(grep '^link peer=A' "$NET_TMP/B.status" | cut -d' ' -f2-6)"
cloud_check A B
say "ok"
