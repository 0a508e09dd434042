#!/bin/bash
# Roaming survives a garbage flood: while M floods B's UDP port with 10000
# datagrams a second shaped like DTLS application data (type 23, DTLS 1.2,
# epoch 1, random sequence numbers and bodies), A's address changes. Only
# records that continue the peer's epoch and sequence numbers are worth a
# trial decryption, so the junk cannot use up the budget and B follows A.
#
#   A (10.77.1.1 -> .3) --connect-udp--> B (10.77.1.2, 10.77.2.1) <-- M (10.77.2.2)
#                                        listen-udp * 5000            flood
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
net_init
net_need_cloud
command -v python3 >/dev/null || skip "no python3"

host A B M
link A B; IF=v$NET_LINKS
OLD=$LA NEW=10.77.1.3
link B M; BM=$LA
certs A B
OPTS=("conn_keepalive 200ms" "conn_timeout 3s")
cloud_start B "listen-udp * 5000" "${OPTS[@]}"
cloud_start A "connect-udp $IP_B 5000" "conn_retry 500ms" "${OPTS[@]}"
wait_for 15 links_up A B || fail "no link A <-> B"

run_in M flood python3 -c 'import os, random, signal, socket, struct, sys, time
def done(*a):
	print("sent", n, flush=True)
	sys.exit(0)
signal.signal(signal.SIGTERM, done)
dst = (sys.argv[1], 5000)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
	for i in range(100):
		seq = random.getrandbits(48)
		body = os.urandom(100)
		rec = struct.pack("!BHHHIH", 23, 0xfefd, 1, seq >> 32,
				  seq & 0xffffffff, len(body)) + body
		s.sendto(rec, dst)
		n += 1
	time.sleep(0.01)
done()' "$BM" 8
FLOOD=$LAST_PID
sleep 1	# the flood is on
log_mark B
t0=$(now_ms)
# the new address first (secondary, promoted when the old one goes)
in_ns A sysctl -qw "net.ipv4.conf.$IF.promote_secondaries=1" ||
	hard_error "sysctl promote_secondaries"
in_ns A ip addr add "$NEW/24" dev "$IF" || hard_error "ip addr add $NEW"
in_ns A ip addr del "$OLD/24" dev "$IF" || hard_error "ip addr del $OLD"
wait_for 5 log_has B "link A: moved from $OLD:[0-9]+ to $NEW:[0-9]+" ||
	fail "B did not follow A's move during the flood"
say "B followed A in $(($(now_ms) - t0)) ms during the flood"
proc_stop "$FLOOD" TERM 10 || true
sent=$(sed -n 's/^sent //p' "$NET_TMP/flood.log")
say "M sent ${sent:-?} junk records"
[ "${sent:-0}" -ge 5000 ] || fail "the flood was too small to prove anything"
log_since B | grep -q ' down' && fail "the link went down during the flood"
links_up A B || fail "the link is not up"
cloud_check A B
say "ok"
