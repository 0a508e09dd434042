#!/bin/sh
# ether: TAP creation and configuration through rtnetlink, and frames both
# ways through a gate socket.
#
#   netns A                                      netns B                  netns C
#   cvpn0 10.77.0.1/24 fd77::1/64        br0 10.77.0.2/24 fd77::2/64
#      |                                   |            |
#    ether                               cvb0         veth ------- veth 10.77.0.3
#      |                                   |
#      +--gate sock--> [fake gate hub] <-- ether -bridge
#
# The hub speaks the gate protocol (doc/PROTOCOL.md) and delivers a packet
# to the other gates whose announced MACs match its destination, or to all
# of them for a broadcast, as the daemon does. B's ether is in bridge
# mode: it must learn and announce br0's and C's MACs for A to reach them. Checks: the TAP's name, MAC,
# MTU, addresses and state (`ip -n NS`), ping over IPv4 and IPv6 (ARP and
# neighbour discovery are broadcasts/multicasts; the echoes are unicast),
# a frame bigger than 1500 bytes arrives whole, a restarted hub is
# reconnected to, and SIGTERM removes the TAP.
#
# Needs root, /dev/net/tun, ip netns and python3; exits 77 (skip) without.

set -u
top_builddir=${top_builddir:-.}
ETHER=${ETHER:-$top_builddir/ether/ether}
P=cvether$$
A=${P}A
B=${P}B
C=${P}C
TMP=$(mktemp -d /tmp/cvether.XXXXXX)
SOCK=$TMP/gate.sock
HUBPID= EAPID= EBPID=

skip() { echo "SKIP: $*"; rm -rf "$TMP"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v python3 >/dev/null || skip "no python3"
command -v ip >/dev/null || skip "no ip"
[ -x "$ETHER" ] || skip "no $ETHER"

cleanup() {
	for p in $EAPID $EBPID $HUBPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { desc=$1; shift; if "$@" >/dev/null 2>&1; then ok "$desc"; else nok "$desc"; fi; }

cat >"$TMP/hub.py" <<'EOF'
import os, socket, struct, select, sys
path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
conns = {}  # sock -> [inbuf, set of announced (inst, bytes, plen)]
def msg(t, body):
    return struct.pack(">I", t << 24 | len(body)) + body
def match(ann, inst, dst):
    for (i, b, plen) in ann:
        if i != inst:
            continue
        if plen == 0 or (len(dst) == len(b) and dst == b):
            return True
    return False
def handle(s, t, body):
    st = conns[s]
    if t == 1:
        name = b"fakehub"
        s.sendall(msg(1, struct.pack(">HB", 1, len(name)) + name))
    elif t == 2:
        n, = struct.unpack(">H", body[:2]); off = 2; ann = set()
        for _ in range(n):
            inst, l, plen = struct.unpack(">IBH", body[off:off + 7])
            ann.add((inst, body[off + 7:off + 7 + l], plen)); off += 7 + l
        st[1] = ann
    elif t == 14 or t == 15:  # FPACKET, FOFFLOAD: drop the flow hash
        handle(s, 3 if t == 14 else 6, body[4:])
    elif t == 3 or t == 6:  # PACKET, or OFFLOAD (every ether takes it)
        inst, dlen, slen = struct.unpack(">IBB", body[:6])
        dst = body[6:6 + dlen]
        for o, ost in conns.items():
            if o is not s and (dlen == 0 or match(ost[1], inst, dst)):
                o.sendall(msg(t, body))
    elif t == 5:  # CAPS
        pass
    elif t == 4:
        s.sendall(msg(4, b""))
while True:
    r, _, _ = select.select([srv] + list(conns), [], [])
    for s in r:
        if s is srv:
            c, _ = srv.accept(); conns[c] = [b"", set()]; continue
        d = s.recv(1 << 20)
        if not d:
            del conns[s]; s.close(); continue
        st = conns[s]; st[0] += d
        while len(st[0]) >= 4:
            h, = struct.unpack(">I", st[0][:4]); t, l = h >> 24, h & 0xffffff
            if len(st[0]) < 4 + l:
                break
            body = st[0][4:4 + l]; st[0] = st[0][4 + l:]
            handle(s, t, body)
EOF

start_hub() {
	python3 "$TMP/hub.py" "$SOCK" &
	HUBPID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

wait_tap() { # ns dev
	i=0
	while [ $i -lt 50 ]; do
		ip -n "$1" link show "$2" 2>/dev/null | grep -q ',UP' && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

ip netns add "$A" || skip "cannot create netns"
ip netns add "$B"
ip netns add "$C"
for ns in "$A" "$B" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$B" link add br0 mtu 9000 type bridge
ip -n "$B" link add vb mtu 9000 type veth peer name vc netns "$C"
ip -n "$B" link set vb master br0 up
ip -n "$B" addr add 10.77.0.2/24 dev br0
ip -n "$B" addr add fd77::2/64 dev br0
ip -n "$C" link set vc mtu 9000 up
ip -n "$C" addr add 10.77.0.3/24 dev vc

# No gate yet: one clear error, non-zero exit, no TAP left behind.
ip netns exec "$A" "$ETHER" -gate "$SOCK" 2>"$TMP/err" && nok "no gate: exit non-zero" || ok "no gate: exit non-zero"
check "no gate: one error, then the exiting line" sh -c \
	"[ \$(wc -l <'$TMP/err') -eq 2 ] && grep -q 'cannot reach the daemon' '$TMP/err' && tail -n 1 '$TMP/err' | grep -q 'exiting'"
check "no gate: no TAP left" sh -c "! ip -n $A link show cvpn0"
# A bad option.
check "bad mtu rejected" sh -c "! $ETHER -gate $SOCK -mtu 10 2>/dev/null"
check "bad iface_addr rejected" sh -c "! $ETHER -gate $SOCK -iface_addr 10.0.0.300/24 2>/dev/null"

start_hub
ip netns exec "$A" "$ETHER" -gate "$SOCK" -mac 02:77:00:00:00:01 -mtu 9000 \
	-iface_addr 10.77.0.1/24 -iface_addr fd77::1/64 -loglevel 3 \
	-iface_up_cmd 'echo "up $IFACE" >'"$TMP/upA" \
	-iface_down_cmd 'echo "down $IFACE" >'"$TMP/downA" 2>"$TMP/logA" &
EAPID=$!
ip netns exec "$B" "$ETHER" -gate "$SOCK" -iface_dev cvb%d -mtu 9000 \
	-bridge yes -loglevel 3 2>"$TMP/logB" &
EBPID=$!

check "TAP A up" wait_tap "$A" cvpn0
check "TAP B up (iface_dev template)" wait_tap "$B" cvb0
ip -n "$B" link set cvb0 master br0
ip -n "$B" link set br0 up
check "B: bridge mode TAP is promiscuous" sh -c "ip -n $B link show cvb0 | grep -q PROMISC"
check "A: MAC set" sh -c "ip -n $A link show cvpn0 | grep -q 'ether 02:77:00:00:00:01'"
check "A: MTU set" sh -c "ip -n $A link show cvpn0 | grep -q 'mtu 9000'"
# a peer drops super-segments of more than 64 segments (lib/gso.h)
check "A: offload TAP sends 64 segments at most" sh -c \
	"ip -d -n $A link show cvpn0 | grep -q 'gso_max_segs 64 '"
check "A: IPv4 address" sh -c "ip -n $A addr show cvpn0 | grep -q 'inet 10.77.0.1/24'"
check "A: IPv6 address" sh -c "ip -n $A addr show cvpn0 | grep -q 'inet6 fd77::1/64'"
check "B: random MAC is locally administered unicast" sh -c \
	"ip -n $B link show cvb0 | grep -Eq 'ether [0-9a-f][26ae]:'"
check "iface_up_cmd ran with IFACE" grep -qx "up cvpn0" "$TMP/upA"

check "ping IPv4 A->B" ip netns exec "$A" ping -c 2 -W 2 10.77.0.2
check "ping IPv4 B->A" ip netns exec "$B" ping -c 2 -W 2 10.77.0.1
check "ping IPv4 A->C (behind B's bridge)" ip netns exec "$A" ping -c 3 -W 2 10.77.0.3
check "ping IPv4 C->A" ip netns exec "$C" ping -c 2 -W 2 10.77.0.1
cmac=$(ip -n "$C" -o link show vc | sed -n 's/.*ether \([0-9a-f:]*\).*/\1/p')
check "B learned C's MAC ($cmac)" grep -q "learned $cmac" "$TMP/logB"
# IPv6 DAD must finish first.
sleep 2
check "ping IPv6 A->B" ip netns exec "$A" ping -6 -c 2 -W 2 fd77::2
check "big frame (8000 bytes, no fragments) arrives whole" \
	ip netns exec "$A" ping -M do -s 8000 -c 2 -W 2 10.77.0.2

# The hub goes away and comes back: ether keeps its TAP and reconnects.
kill "$HUBPID"; wait "$HUBPID" 2>/dev/null
sleep 1.5
check "TAP kept while the gate is gone" wait_tap "$A" cvpn0
start_hub
sleep 2.5
check "ping after reconnect" ip netns exec "$A" ping -c 2 -W 2 10.77.0.2
check "A logged the reconnect" grep -q reconnected "$TMP/logA"

kill -TERM "$EAPID"; wait "$EAPID"; rc=$?; EAPID=
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: iface_down_cmd ran" grep -qx "down cvpn0" "$TMP/downA"
check "SIGTERM: TAP removed" sh -c "! ip -n $A link show cvpn0"
kill -TERM "$EBPID"; wait "$EBPID"; rc=$?; EBPID=
check "SIGTERM B: exit 0" test "$rc" -eq 0

if [ "$fail" -gt 0 ]; then
	for f in "$TMP"/log*; do echo "== $f"; tail -n 40 "$f"; done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
