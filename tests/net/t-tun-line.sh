#!/bin/bash
# The IP gate across a relay, with a LAN behind C. Nobody adds a route by
# hand: A's tun learns C's prefixes from its daemon and routes them.
#
#  tun0 10.20.0.1/24        (relay)        tun0 10.20.0.3/24      L
#       fd20::1/64                              fd20::3/64         192.168.77.2
#  A [cloud+tun] ---- B [cloud] ---- C [cloud+tun] --- LAN 192.168.77.0/24
#                                     -route 192.168.77.0/24, forwards
#
# While A's table has someone else's route to C's LAN, A's tun leaves it
# alone and says so once, however often the metric changes; once it is
# gone, C's restarted tun brings tun's own.
# A pings C (IPv4 and IPv6) and L; A's table holds 192.168.77.0/24 with
# tun's protocol (77); it goes within 3 s of C's tun stopping and comes
# back when it restarts; A's tun keeps its TUN and route across a restart
# of A's daemon and, running as nobody, takes its routes with it at exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/mesh.sh"
. "$top_srcdir/tests/net/tun.sh"
net_init
net_need_cloud
tun_need

PROTO=77	# TROUTE_PROTO in tun/troute.h
# kroute NS PREFIX: NS's main table routes PREFIX through tun0 with
# tun's protocol.
kroute() {
	ip -n "$(ns "$1")" route show "$2" proto $PROTO 2>/dev/null |
		grep -q "dev tun0"
}
no_kroute() { ! ip -n "$(ns "$1")" route show "$2" | grep -q .; }
ours() { ip -n "$(ns "$1")" -4 route show proto $PROTO; \
	ip -n "$(ns "$1")" -6 route show proto $PROTO; }

line_abc
host L
lan C L 192.168.77
# A's tun runs as nobody once set up: it keeps CAP_NET_ADMIN for routes,
# and its iface_down_cmd has it too (it can take the TUN down).
tun_start A A a -iface_addr 10.20.0.1/24 -iface_addr fd20::1/64 \
	-user nobody -iface_up_cmd 'echo "up $IFACE as $(id -un)"' \
	-iface_down_cmd 'ip link set dev $IFACE down &&
		echo "down $IFACE as $(id -un)"'
ip -n "$(ns A)" route add blackhole 192.168.77.0/24 ||
	hard_error "cannot add a blackhole route on A"
tun_start C C c0 -iface_addr 10.20.0.3/24 -iface_addr fd20::3/64 \
	-route 192.168.77.0/24
wait_for 5 tun_up A || fail "A's TUN is not up"
wait_for 5 tun_up C || fail "C's TUN is not up"
# a peer drops super-segments of more than 64 segments (lib/gso.h)
ip -d -n "$(ns A)" link show tun0 | grep -q 'gso_max_segs 64 ' ||
	fail "A's offload TUN takes more than 64 segments"
wait_for 10 log_has tun-a "192\.168\.77\.0/24: .*not tun's" ||
	fail "A's tun did not say 192.168.77.0/24 is someone else's"
# Traffic for a few seconds: every RTT sample re-sends the prefix.
in_ns A ping -q -c 15 -i 0.2 -W 1 10.20.0.3 >/dev/null ||
	fail "ping A -> C (10.20.0.3) failed beside the blackhole"
n=$(grep -c "not tun's" "$NET_TMP/tun-a.log")
[ "$n" = 1 ] || fail "A's tun said 'not tun's' $n times, not once"
kroute A 192.168.77.0/24 && fail "A's tun routed over someone else's route"
ip -n "$(ns A)" route del blackhole 192.168.77.0/24
proc_stop "$PID_tun_c0" TERM 5 || fail "C's tun did not exit cleanly"
say "someone else's route on A: said once, left alone"
tun_start C C c -iface_addr 10.20.0.3/24 -iface_addr fd20::3/64 \
	-route 192.168.77.0/24
wait_for 5 tun_up C || fail "C's TUN is not up again"

wait_for 10 kroute A 192.168.77.0/24 || fail "A has no route to C's LAN"
log_has tun-a "up tun0 as root" || fail "A's iface_up_cmd did not run as root"
say "A's routes from tun: $(ours A | tr '\n' ';')"
# C's host addresses are inside A's own connected subnets: no route.
[ "$(ours A | wc -l)" = 1 ] || fail "A should hold exactly one route of tun's"
wait_for 10 pings4 A 10.20.0.3 || fail "ping A -> C (10.20.0.3) failed"
say "ping A -> C ok; $(in_ns A ping -c 5 -i 0.1 -q 10.20.0.3 | tail -1)"
wait_for 10 in_ns A ping -6 -q -c 3 -i 0.2 -W 1 fd20::3 >/dev/null ||
	fail "ping A -> C over IPv6 (fd20::3) failed"
say "ping6 A -> C ok"
wait_for 10 pings4 A 192.168.77.2 || fail "ping A -> L (behind C) failed"
say "ping A -> L (192.168.77.2, behind C) ok"

# C's tun goes: its prefixes are withdrawn, A's route follows.
t0=$(now_ms)
proc_stop "$PID_tun_c" TERM 5 || fail "C's tun did not exit cleanly"
ip -n "$(ns C)" link show tun0 >/dev/null 2>&1 && fail "C's tun0 outlived tun"
wait_for 3 no_kroute A 192.168.77.0/24 ||
	fail "A still routes C's LAN 3 s after C's tun stopped"
say "route gone $(($(now_ms) - t0)) ms after C's tun stopped"
pings4 A 192.168.77.2 && fail "L answered with C's tun stopped"

tun_start C C c2 -iface_addr 10.20.0.3/24 -iface_addr fd20::3/64 \
	-route 192.168.77.0/24
wait_for 10 kroute A 192.168.77.0/24 || fail "A's route did not come back"
wait_for 10 pings4 A 192.168.77.2 || fail "ping A -> L failed after C's restart"
say "C's tun back: route and ping A -> L back"

# A's daemon restarts: the tun keeps its TUN and its route, reattaches
# and takes the whole set of prefixes again.
# (tun now runs as nobody: the new socket must let nobody in)
chmod 711 "$NET_TMP"
cloud_stop A
mesh_start A "$CONNECT $AB 5000" "gate_mode 0666"
wait_for 15 links_up A B || fail "A-B not up after A's restart"
wait_for 10 log_has tun-a "reconnected" || fail "A's tun did not reattach"
tun_up A || fail "A's TUN did not outlive its daemon"
wait_for 10 pings4 A 192.168.77.2 || fail "ping A -> L failed after A's restart"
kroute A 192.168.77.0/24 || fail "A's route went with its daemon"
say "A's daemon restarted: TUN, route and ping A -> L kept"

# A's tun takes its routes and its device with it.
proc_stop "$PID_tun_a" TERM 5 || fail "A's tun did not exit cleanly"
[ -z "$(ours A)" ] || fail "A's tun left routes: $(ours A)"
ip -n "$(ns A)" link show tun0 >/dev/null 2>&1 && fail "A's tun0 outlived tun"
log_has tun-a "removing 1 route" || fail "A's tun did not say it removed its route"
log_has tun-a "down tun0 as nobody" || fail "A's iface_down_cmd did not run as nobody"
cloud_check A B C
say "ok"
