#!/bin/bash
# The control channel of a UDP link is reliable: with 10 % of the
# underlay's datagrams dropped each way (nftables, from before the
# handshake), a route table of 2000 addresses announced by two gates on
# each node arrives complete at the other, and both ends of the link show
# retransmissions.
#
#   2 gates: 0001..07d0                         2 gates: 1001..17d0
#   A (10.77.1.1) ==== 10 % loss each way ==== B (10.77.1.2) listen-udp :5000
#        connect-udp
#   2000 routes via B                           2000 routes via A
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
net_init
net_need_cloud
command -v nft >/dev/null || skip "no nft"
command -v python3 >/dev/null || skip "no python3"

GATES=2 PER_GATE=1000
ROUTES=$((GATES * PER_GATE))

host A B
link A B; IF=v$NET_LINKS
certs A B
# The loss is at each receiver's input hook: a sender's output hook sees
# a UDP GSO send as one packet, but with gso_max_segs 1 the veth has it
# cut into datagrams first, so each datagram is dropped on its own.
for n in A B; do
	ip -n "$(ns $n)" link set dev "$IF" gso_max_segs 1 ||
		hard_error "ip link set $IF gso_max_segs 1"
	in_ns $n nft -f - <<NFT || hard_error "nft in $n"
table inet cvtloss {
	chain in { type filter hook input priority 0;
		iifname "$IF" counter;
		iifname "$IF" numgen random mod 100 < 10 counter drop; }
}
NFT
done
# gates.py PATH GATES PER BASE: gates that announce PER two-byte
# addresses each in instance 1, from BASE + 1 on (the gate protocol allows
# 1024 a gate), then stay attached.
cat >"$NET_TMP/gates.py" <<'PY'
import select, socket, struct, sys, time
path, gates, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = int(sys.argv[4], 16)
def msg(t, p):
    return bytes([t]) + len(p).to_bytes(3, "big") + p
socks = []
for g in range(gates):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    name = b"many%d" % g
    s.sendall(msg(1, struct.pack(">HB", 1, len(name)) + name))
    ents = b"".join(struct.pack(">IBH", 1, 2, 16) +
                    (base + g * per + i + 1).to_bytes(2, "big")
                    for i in range(per))
    s.sendall(msg(2, struct.pack(">H", per) + ents))
    socks.append(s)
print("announced", gates * per, flush=True)
end = time.monotonic() + 120
while time.monotonic() < end:
    r, _, _ = select.select(socks, [], [], 1)
    for s in r:
        b = s.recv(65536)
        if not b:
            print("daemon closed a gate", flush=True); sys.exit(1)
        if b[0] == 4:		# KEEPALIVE: answer, as libcloudgate does
            s.sendall(msg(4, b""))
PY

mesh_start B "listen-udp $IP_B 5000"
wait_for 5 log_has B "listening on $IP_B:5000 \(udp\)" ||
	{ cloud_check B; fail "B not listening on udp"; }
wait_for 5 test -S "$NET_TMP/B.gate" ||
	{ cloud_check B; fail "B's gate socket missing"; }
run_in B gates-b python3 "$NET_TMP/gates.py" "$NET_TMP/B.gate" $GATES $PER_GATE 1000
GB=$LAST_PID
mesh_start A "connect-udp $IP_B 5000"
wait_for 5 test -S "$NET_TMP/A.gate" ||
	{ cloud_check A; fail "A's gate socket missing"; }
run_in A gates-a python3 "$NET_TMP/gates.py" "$NET_TMP/A.gate" $GATES $PER_GATE 0
GA=$LAST_PID
t0=$(now_ms)
wait_for 5 grep -q announced "$NET_TMP/gates-a.log" || fail "A's gates did not announce"
wait_for 5 grep -q announced "$NET_TMP/gates-b.log" || fail "B's gates did not announce"
wait_for 15 links_up A B || fail "A-B not up under 10 % loss"
link_over A B udp || fail "A-B is not a udp link"
say "link up under loss in $(($(now_ms) - t0)) ms"

# routes_via N PEER: N's routes to two-byte addresses through PEER
routes_via() {
	grep -c "^route addr=1/[0-9a-f]\{4\}/16 via=$2 " "$NET_TMP/$1.status" 2>/dev/null
}
all_routes() { cloud_check A B; [ "$(routes_via B A)" -eq "$ROUTES" ] &&
	[ "$(routes_via A B)" -eq "$ROUTES" ]; }
wait_for 20 all_routes ||
	fail "after 20 s, B has $(routes_via B A) of $ROUTES routes via A, A $(routes_via A B) via B"
say "$ROUTES routes each way complete $(($(now_ms) - t0)) ms after the gates announced"
has_route B 1/0001/16 A && has_route B 1/$(printf %04x $ROUTES)/16 A ||
	fail "B lacks A's first or last address"
has_route A 1/1001/16 B && has_route A 1/$(printf %04x $((0x1000 + ROUTES)))/16 B ||
	fail "A lacks B's first or last address"

# Proof of the loss: the drop rules hit, and A's reliable channel resent.
# counted N: packets and bytes that reached N's input hook, then the
# packets dropped there
counted() { in_ns "$1" nft list table inet cvtloss |
	sed -n 's/.*counter packets \([0-9]*\) bytes \([0-9]*\).*/\1 \2/p' |
	tr '\n' ' ' | awk '{print $1, $2, $3}'; }
read -r in_b bytes_b drop_b < <(counted B)
read -r in_a bytes_a drop_a < <(counted A)
say "A -> B: $drop_b of $in_b datagrams dropped; B -> A: $drop_a of $in_a"
[ "$drop_b" -gt 0 ] && [ "$drop_a" -gt 0 ] || fail "no loss in one direction"
# each packet the rules saw was one datagram, not a GSO send of many
[ "$bytes_b" -le $((in_b * 1500)) ] && [ "$bytes_a" -le $((in_a * 1500)) ] ||
	fail "packets above 1500 bytes reached the loss rules: a GSO send was not cut"
# retx N PEER: the retransmits of N's link to PEER
retx() {
	sed -n "s/^link peer=$2 .* retransmits=\([0-9]*\).*/\1/p" "$NET_TMP/$1.status"
}
retx_seen() { [ "$(retx A B)" -gt 0 ] 2>/dev/null && [ "$(retx B A)" -gt 0 ] 2>/dev/null; }
wait_for 5 retx_seen ||
	fail "retransmits: A's link $(retx A B), B's $(retx B A); not both > 0"
say "A: $(grep '^link peer=B ' "$NET_TMP/A.status" | cut -d' ' -f5-)"
say "B: $(grep '^link peer=A ' "$NET_TMP/B.status" | cut -d' ' -f5-)"
alive "$GA" || fail "A's gates died: $(cat "$NET_TMP/gates-a.log")"
alive "$GB" || fail "B's gates died: $(cat "$NET_TMP/gates-b.log")"
cloud_check A B
say "ok"
