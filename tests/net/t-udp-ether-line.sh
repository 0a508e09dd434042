#!/bin/bash
# One Ethernet across a UDP link and a TCP link: A reaches C through B,
# A - B over UDP (DTLS), B - C over TCP. Full-size frames (1514 bytes
# with their Ethernet header) do not fit one datagram on a 1500-byte
# underlay, so the UDP link must fragment and reassemble them; with
# ether's offload on, 64 KB TCP segments cross whole and the link cuts
# them; with offload off, every 1514-byte frame is fragmented.
#
#  tap0 10.88.0.1          tap0 10.88.0.2          tap0 10.88.0.3
#  A [cloud+ether] ======= B [cloud+ether] ------- C [cloud+ether]
#   10.77.1.1   connect-udp   10.77.1.2  10.77.2.1  connect   10.77.2.2
#                   (udp, mtu 1472)          (tcp)
#
# ping A -> C and A -> B, ping -s 1472 -M do A -> C, 50 MB of TCP A -> C
# with the same SHA-256 at both ends (10 MB under valgrind), then again
# with offload no on A's and C's ethers.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need
command -v python3 >/dev/null || skip "no python3"

MB=50
[ -z "${NET_WRAP:-}" ] || MB=10	# valgrind: xfer allows 30 s a transfer

host A B C
link A B; AB=$LB
link B C; BC=$LA
certs A B C
mesh_start B "listen-udp $AB 5000"
wait_for 5 log_has B "listening on $AB:5000 \(udp\)" ||
	{ cloud_check B; fail "B not listening on udp"; }
mesh_start A "connect-udp $AB 5000"
mesh_start C "connect $BC 5000"
wait_for 15 links_up A B || fail "A-B not up"
wait_for 15 links_up B C || fail "B-C not up"
link_over A B udp && link_over B A udp || fail "A-B is not a udp link"
link_over C B tcp && link_over B C tcp || fail "B-C is not a tcp link"
# the probed path MTU: 1472 bytes of UDP payload on the veth
wait_for 5 grep -q '^link peer=B .*transport=udp mtu=1472 ' "$NET_TMP/A.status" ||
	fail "A's path MTU to B is not 1472: $(grep '^link' "$NET_TMP/A.status")"

ether_start A A a -iface_addr 10.88.0.1/24
ether_start B B b -iface_addr 10.88.0.2/24
ether_start C C c -iface_addr 10.88.0.3/24
for n in A B C; do
	wait_for 5 tap_up $n || fail "$n's TAP is not up"
done
wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed"
wait_for 10 pings A 10.88.0.2 || fail "ping A -> B failed"
say "ping A -> C ok; $(in_ns A ping -c 5 -i 0.1 -q 10.88.0.3 | tail -1)"
pings A 10.88.0.3 -s 1472 -M do || fail "1500-byte packets with DF do not pass A -> C"
pings C 10.88.0.1 -s 1472 -M do || fail "1500-byte packets with DF do not pass C -> A"
say "full-size frames (ping -s 1472 -M do) pass both ways"
pings A 10.88.0.3 -s 1473 -M do && fail "a frame above the MTU passed with DF set"

xfer A C 10.88.0.3 $((MB * 1000000))
say "$MB MB A -> C (offload) intact in $XFER_MS ms" \
	"($((MB * 8000 / (XFER_MS ? XFER_MS : 1))) Mbit/s)"

# The same with plain 1514-byte frames: each is fragmented by the UDP link.
proc_stop "$PID_ether_a" TERM 2 || true
proc_stop "$PID_ether_c" TERM 2 || true
ether_start A A a2 -iface_addr 10.88.0.1/24 -offload no
ether_start C C c2 -iface_addr 10.88.0.3/24 -offload no
wait_for 5 tap_up A || fail "A's TAP (offload no) is not up"
wait_for 5 tap_up C || fail "C's TAP (offload no) is not up"
wait_for 10 pings A 10.88.0.3 -s 1472 -M do ||
	fail "offload no: 1500-byte packets with DF do not pass A -> C"
xfer A C 10.88.0.3 $((MB * 1000000))
say "$MB MB A -> C (offload no) intact in $XFER_MS ms" \
	"($((MB * 8000 / (XFER_MS ? XFER_MS : 1))) Mbit/s)"
link_over A B udp || fail "A's udp link to B is no longer up"
grep -q '^link peer=B .*transport=udp .* drops=0 ' "$NET_TMP/A.status" ||
	say "note: A's link dropped some packets: $(grep '^link peer=B' "$NET_TMP/A.status")"
cloud_check A B C
say "ok"
