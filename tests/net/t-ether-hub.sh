#!/bin/bash
# Hub mode: with -hub yes every frame goes to every gate of the instance,
# so C's TAP receives the unicast ping A -> B too. The same burst with the
# ethers restarted in switch mode (the default) must not reach C. And
# -hub with -bridge is refused with the option's place.
#
#  tap0 10.88.0.1          tap0 10.88.0.2          tap0 10.88.0.3
#  A [cloud+ether] ---- B [cloud+ether] ---- C [cloud+ether]
#     ping A -> B, N times; count the frames C's TAP receives
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need

N=100

# Refused before anything is opened: on the command line and in a file.
out=$("$ETHER" -gate "$NET_TMP/none.gate" -hub yes -bridge yes 2>&1) &&
	fail "-hub yes -bridge yes was accepted"
[ $? -eq 1 ] || fail "-hub yes -bridge yes: exit status not 1"
grep -q "command line: hub: cannot be used with bridge" <<<"$out" ||
	fail "-hub yes -bridge yes: unexpected message: $out"
printf 'gate %s\nbridge yes\nhub yes\n' "$NET_TMP/none.gate" >"$NET_TMP/hb.cfg"
out=$("$ETHER" -@include "$NET_TMP/hb.cfg" 2>&1) &&
	fail "a file with hub and bridge was accepted"
grep -q "$NET_TMP/hb.cfg:3: hub: cannot be used with bridge" <<<"$out" ||
	fail "hub and bridge in a file: unexpected message: $out"
say "hub with bridge refused: ${out#*warning: }"

# ethers MODE_OPTION...: (re)start the three ethers and wait until A
# reaches both B and C.
ethers() {
	local n pid
	for n in a b c; do
		pid=$(eval echo "\${PID_ether_$n:-}")
		[ -z "$pid" ] || proc_stop "$pid" TERM 2 ||
			fail "ether $n did not exit 0 on SIGTERM"
	done
	ether_start A A a -iface_addr 10.88.0.1/24 "$@"
	ether_start B B b -iface_addr 10.88.0.2/24 "$@"
	ether_start C C c -iface_addr 10.88.0.3/24 "$@"
	for n in A B C; do
		wait_for 5 tap_up $n || fail "$n's TAP is not up"
	done
	wait_for 10 pings A 10.88.0.2 || fail "ping A -> B failed ($*)"
	wait_for 10 pings A 10.88.0.3 || fail "ping A -> C failed ($*)"
}

rx_c() { in_ns C cat /sys/class/net/tap0/statistics/rx_packets; }

# burst: N pings A -> B, then pings A -> C. Those travel the same links
# after the burst, so once they are answered C's ether has written all it
# got of the burst. Sets GOT: frames C's TAP received meanwhile.
burst() {
	local before
	before=$(rx_c)
	in_ns A ping -q -c $N -i 0.01 -W 1 10.88.0.2 >/dev/null 2>&1 ||
		fail "the burst A -> B lost pings"
	pings A 10.88.0.3 || fail "ping A -> C after the burst failed"
	GOT=$(($(rx_c) - before))
}

line_abc
ethers -hub yes
grep -q ", hub" "$NET_TMP/ether-c.log" || fail "C's ether did not log hub mode"
burst
say "hub: $N pings A -> B, C's TAP received $GOT frames"
[ "$GOT" -ge "$N" ] || fail "hub: C's TAP saw $GOT frames, expected >= $N"
if command -v python3 >/dev/null; then
	xfer A B 10.88.0.2 5000000
	say "hub: 5 MB A -> B intact in $XFER_MS ms"
fi

ethers
burst
say "switch: $N pings A -> B, C's TAP received $GOT frames"
[ "$GOT" -lt $((N / 4)) ] ||
	fail "switch: C's TAP saw $GOT frames of a burst to B"
cloud_check A B C
say "ok"
