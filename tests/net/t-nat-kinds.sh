#!/bin/bash
# What stunproxy does with each kind of NAT (tests/net/nat.sh):
#  - hard/hard (masquerade random on both sides: a new port per
#    destination): no direct link; A says why, naming both NAT kinds, and
#    its status shows B as relayed; the relayed ping still works.
#  - easy/hard: still relayed, since the easy side (Linux masquerade)
#    filters by address and port and the hard side's port toward it is
#    unknown; the reason names the hard side's kind.
#  - fwd/hard: A's punching port is forwarded on its NAT; B's probes reach
#    A from B's per-destination port, A answers that peer-reflexive
#    address, and the direct link comes up.
#  - UDP blocked at A's NAT: A says so, and B stays reachable through S.
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

STUN=(-stun "$NAT_S_IP 3478" -stun "$NAT_S_IP 3479")
# punch_pair [A OPTIONS...]: (re)start A's and B's stunproxies.
punch_pair() {
	local p
	for p in ${PID_sp_a:-} ${PID_sp_b:-}; do proc_stop "$p" TERM 2; done
	sp_start A a -peer B "${STUN[@]}" "$@"
	sp_start B b -peer A "${STUN[@]}"
}

nat_mesh hard hard
sp_start S s -stun_listen "$NAT_S_IP 3478" -stun_listen "$NAT_S_IP 3479"
punch_pair
wait_for 20 log_has sp-a "B: relayed:.*no probe answered" ||
	fail "hard/hard: A logged no failure to punch"
log_has sp-a "B: relayed:.*symmetric NAT on both sides" ||
	fail "hard/hard: the reason does not name both NATs"
say "hard/hard: $(grep -m1 'B: relayed' "$NET_TMP/sp-a.log" | sed 's/^stunproxy: info: //')"
direct A B && fail "hard/hard: a direct link came up"
wait_for 5 reach A B relayed || fail "hard/hard: A's status does not say relayed"
grep "^node name=B " "$NET_TMP/A.status" | grep -q 'via=S' ||
	fail "hard/hard: A's status does not name the relay S"
pings A 10.88.0.2 || fail "hard/hard: the relayed ping failed"

# easy/hard: A's NAT becomes plain masquerade; the TCP links through the
# NATs reconnect by themselves if the conntrack flush broke them.
nat_kind N1 easy
wait_for 15 links_up A S || fail "A-S not up again"
MARK=$(wc -l <"$NET_TMP/sp-a.log")
punch_pair
since_has() { tail -n +$((MARK + 1)) "$NET_TMP/$1.log" | grep -Eq -- "$2"; }
# (a first try may end sooner, "did not answer", while the links and
# routes of the NAT change settle: the next try, some 15 s on, punches)
wait_for 40 since_has sp-a "B: relayed:.*no probe answered" ||
	fail "easy/hard: A logged no failure to punch"
since_has sp-a "B: relayed:.*symmetric NAT \(a port per destination\)" ||
	fail "easy/hard: the reason does not name B's NAT kind"
direct A B && fail "easy/hard: a direct link came up"
say "easy/hard: $(tail -n +$((MARK + 1)) "$NET_TMP/sp-a.log" | grep -m1 'B: relayed' | sed 's/^stunproxy: info: //')"

# fwd/hard: A's port 5300 is forwarded to it.
nat_kind N1 fwd
wait_for 15 links_up A S || fail "A-S not up again"
punch_pair -port "$NAT_FWD_PORT"
t0=$(now_ms)
wait_for 15 direct A B || fail "fwd/hard: no direct link within 15 s"
say "fwd/hard: direct link up in $(($(now_ms) - t0)) ms"
wait_for 5 has_route A $ROUTE_B B || fail "fwd/hard: A's route to B is not direct"
pings A 10.88.0.2 || fail "fwd/hard: ping over the direct link failed"

# UDP blocked at A's NAT: no STUN answer, no probe; A says so.
in_ns N1 nft -f - <<NFT || hard_error "nft block"
table ip cvtblock {
	chain block {
		type filter hook forward priority 0;
		meta l4proto udp drop
	}
}
NFT
MARK=$(wc -l <"$NET_TMP/sp-a.log")
punch_pair
wait_for 20 since_has sp-a "B: relayed:.*is UDP blocked here" ||
	fail "blocked: A did not say that UDP seems blocked"
say "UDP blocked: $(tail -n +$((MARK + 1)) "$NET_TMP/sp-a.log" | grep -m1 'B: relayed' | sed 's/^stunproxy: info: //')"
pings A 10.88.0.2 || fail "blocked: the relayed ping failed"
cloud_check A B S
say "ok"
