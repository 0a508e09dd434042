#!/bin/bash
# stunproxy under fire. A's punching port is forwarded on its NAT, so
# anyone on the internet reaches it; during the whole punch a host there
# (S) floods it with garbage, forged probes of every valid size (random
# session IDs and tags), STUN answers with a false mapping and random
# transaction IDs, and rendezvous look-alikes. None of it may steer A:
# A's STUN mapping stays the true one, A hands its daemon exactly one
# socket, to B's NAT, the link that comes up is to B, and no link is
# refused. (A handed socket that leads to the wrong node is refused by
# the daemon itself: t-handed.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
. "$top_srcdir/tests/net/nat.sh"
. "$top_srcdir/tests/net/punch.sh"
net_init
net_need_cloud
ether_need
sp_need
command -v python3 >/dev/null || skip "no python3"

nat_mesh fwd easy
STUN=(-stun "$NAT_S_IP 3478" -stun "$NAT_S_IP 3479")
sp_start S s -stun_listen "$NAT_S_IP 3478" -stun_listen "$NAT_S_IP 3479"
wait_for 5 log_has sp-s "answering on .*3479" || fail "S's stunproxy is not answering"

cat >"$NET_TMP/flood.py" <<'PY'
import os, socket, struct, sys, time
dst = (sys.argv[1], int(sys.argv[2]))
end = time.time() + float(sys.argv[3])
srcs = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
# STUN lies come from the STUN server's own address and port (raw).
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def spoofed(payload, src=(sys.argv[4], 3478)):
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    raw.sendto(ip + udp, dst)
def stun_lie():
    tx = os.urandom(12)
    port, ip = 666 ^ 0x2112, bytes(a ^ b for a, b in zip(bytes([6, 6, 6, 6]), b"\x21\x12\xa4\x42"))
    attr = struct.pack("!HHBBH", 0x20, 8, 0, 1, port) + ip
    return struct.pack("!HHI", 0x0101, len(attr), 0x2112A442) + tx + attr
kinds = [lambda: os.urandom(int.from_bytes(os.urandom(1), "big") + 1),
         lambda: b"cvsp\x01\x01\x00\x00" + os.urandom(36),
         lambda: b"cvsp\x01\x02\x00\x00" + os.urandom(56),
         lambda: b"cvsp\x01\x01\x01\x00" + os.urandom(36),
         lambda: b"cvrv\x01\x02\x00\x00" + os.urandom(40)]
n = 0
while time.time() < end and n < 200000:
    for k in kinds:
        srcs[n % len(srcs)].sendto(k(), dst)
        n += 1
    spoofed(stun_lie())
    n += 1
    time.sleep(0.002)
print(n, flush=True)
PY
run_in S flood python3 "$NET_TMP/flood.py" "$NAT1_PUB" "$NAT_FWD_PORT" 8 "$NAT_S_IP"
FLOOD=$LAST_PID
sleep 0.5
sp_start A a -peer B -port "$NAT_FWD_PORT" "${STUN[@]}"
sp_start B b -peer A "${STUN[@]}"
wait_for 15 direct A B || fail "no direct link A - B within 15 s of flooding"
say "direct link A - B up under the flood"
wait_for 12 grep -q '^[0-9]' "$NET_TMP/flood.log" || fail "the flood did not finish"
say "$(cat "$NET_TMP/flood.log") datagrams of junk sent at A's punching port"

grep "sees us as" "$NET_TMP/sp-a.log" | grep -v "sees us as $NAT1_PUB:$NAT_FWD_PORT\$" &&
	fail "A's mapping was steered"
n=$(grep -c "punched through to" "$NET_TMP/sp-a.log")
[ "$n" = 1 ] || fail "A handed its daemon $n sockets, not 1"
log_has sp-a "punched through to $NAT2_PUB:" || fail "A's socket does not lead to B's NAT"
log_has A "link .*: refused:" && fail "A's daemon refused a link"
[ "$(grep -c '^link .*state=up' "$NET_TMP/A.status")" = 2 ] ||
	fail "A holds other links than to S and B"
pings A 10.88.0.2 || fail "ping A -> B failed"
cloud_check A B S
say "ok"
