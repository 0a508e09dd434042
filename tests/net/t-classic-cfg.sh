#!/bin/bash
# A CloudVPN 1.99.8-style configuration runs unchanged: every classic
# option (and both spellings, '-' and '_') is accepted, the nodes link up,
# the options that exist here take effect, and each option without effect
# prints exactly one notice naming its file and line. Classic ether
# configurations (proto, tunctl) carry frames between the two nodes.
#
#   A (classic A.cfg, listen :5000) <-------- B (classic B.cfg, connect)
#   [ether proto 59274 instance 7]            [ether proto 59274 instance 7]
#   tap0 10.88.0.1                            tap0 10.88.0.2
#
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/net/lib.sh"
. "$top_srcdir/tests/net/ether.sh"
net_init
net_need_cloud
ether_need

# the options CloudVPN 1.99.8 had beyond those of DESIGN.md section 3
CLASSIC="tcp_nodelay ip_tos listen_backlog heartbeat comm_close_timeout
conn-mtu max_waiting_data_size max_input_queue_size route_hop_penalization
report_ping_changes_above packet_id_cache_size status-verbose mlockall
tls_loglevel shared_uplink poll_interval packet_id_cache_time multipath
multipath_ratio uplimit-total uplimit-conn downlimit-total downlimit-conn
red-ratio"
# those that do nothing here, as `cloud -h` marks them (multipath and the
# limits leave this list as they are implemented): one notice each
NOTICED=$("$CLOUD" -h | sed -n 's/^  -\([a-z_-]*\) .* no effect here: .*/\1/p')
for o in heartbeat poll_interval packet_id_cache_time; do
	echo "$NOTICED" | grep -qx -- "$o" || fail "cloud -h: $o is not marked as without effect"
done
for o in $CLASSIC; do
	"$CLOUD" -h | grep -q -- "^  -$o " || fail "cloud -h: no option $o"
done

# mlockall under ASan or valgrind would pin their huge shadow maps
MLOCK=1
if [ -n "${NET_WRAP:-}" ] || grep -q __asan_init "$CLOUD"; then
	MLOCK=0
fi

# classic_cfg NAME LINK-LINE: NAME's configuration, written the way 1.99.8
# configurations were (bare microseconds, hex, 1/0 booleans, both name
# spellings), with every option 1.99.8 knew.
classic_cfg() {
	cat <<EOF
#!/usr/sbin/cloud -@include
# CloudVPN 1.99.8 configuration of node $1
key $CERTS/$1.key
cert $CERTS/$1.crt
ca $CERTS/ca.crt
tls_prio_str NORMAL
$2
gate $NET_TMP/$1.gate
max_connections 64
conn_retry 500000
conn_timeout 30000000
conn_keepalive 1000000
tcp_nodelay 1
ip_tos 0x10
listen_backlog 32
heartbeat 50000
comm_close_timeout 10000000
conn-mtu 8192
max_waiting_data_size 1048576
max_input_queue_size 1048576
route_max_dist 64
route_hop_penalization 1000
report_ping_changes_above 5000
default_ttl 128
max_remote_routes 1024
packet_id_cache_size 1024
packet_id_cache_time 5000000
status-file $NET_TMP/$1.status
status_interval 100000
status-verbose $([ "$1" = B ] && echo 0 || echo 1)
mlockall $MLOCK
tls_loglevel 2
shared_uplink 0
poll_interval 100000
multipath 1
multipath_ratio 2
uplimit-total 0
uplimit_conn 0
downlimit-total 0
downlimit-conn 0
red-ratio 50
# a repeated option without effect is still noticed once
heartbeat 100000
loglevel 3
EOF
}

host A B
link A B
certs A B
classic_cfg A "listen $IP_A 5000" >"$NET_TMP/A.cfg"
classic_cfg B "connect $IP_A 5000" >"$NET_TMP/B.cfg"
run_in A A "${WRAP[@]}" "$CLOUD" -@include "$NET_TMP/A.cfg"
PID_A=$LAST_PID
wait_for 5 listening A 5000 || { cloud_check A; fail "A not listening"; }
run_in B B "${WRAP[@]}" "$CLOUD" -@include "$NET_TMP/B.cfg"
PID_B=$LAST_PID
wait_for 15 links_up A B || fail "no link A <-> B with classic configs"
say "classic configs linked: $(grep '^link' "$NET_TMP/A.status")"

# each option without effect: exactly one notice, naming file and line
for n in A B; do
	for o in $NOTICED; do
		c=$(grep -c "^$NET_TMP/$n.cfg:[0-9]*: $o: accepted for compatibility, has no effect here (.*)$" \
			"$NET_TMP/$n.log")
		[ "$c" = 1 ] || fail "$n: $c notices for $o, not 1"
	done
	c=$(grep -c 'accepted for compatibility' "$NET_TMP/$n.log")
	[ "$c" = "$(echo $NOTICED | wc -w)" ] ||
		fail "$n: $c notices in all, not one per option without effect"
done
say "one notice per option without effect, e.g.: $(grep -m1 heartbeat "$NET_TMP/A.log")"

# the options that exist here took effect
backlog=$(in_ns A ss -Hltn "sport = :5000" | awk '{ print $3 }')
[ "$backlog" = 32 ] || fail "listen_backlog 32: the socket's backlog is $backlog"
in_ns A ss -Htn --tos state established "sport = :5000" | grep -q 'tos:0x10' ||
	fail "ip_tos 0x10: not on A's accepted link ($(in_ns A ss -Htn --tos state established))"
in_ns B ss -Htn --tos state established "dport = :5000" | grep -q 'tos:0x10' ||
	fail "ip_tos 0x10: not on B's outbound link"
log_has A 'debug: gnutls [0-9]+: ' || fail "tls_loglevel 2: no GnuTLS line in A's log"
if [ "$MLOCK" = 1 ]; then
	for n in A B; do
		pid=$(eval echo "\$PID_$n")
		lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$pid/status")
		[ "${lck:-0}" -gt 0 ] || fail "mlockall 1: $n has no locked memory"
	done
	say "mlockall: $(grep VmLck "/proc/$PID_A/status")"
fi
say "listen_backlog, ip_tos, tls_loglevel$([ "$MLOCK" = 1 ] && echo ", mlockall") in effect"

# classic ether configurations: proto and instance meet, tunctl is noticed
for n in A B; do
	i=1; [ $n = B ] && i=2
	cat >"$NET_TMP/ether-$n.cfg" <<EOF
gate $NET_TMP/$n.gate
iface_dev tap0
proto 59274
instance 7
tunctl /dev/net/tun
iface_addr 10.88.0.$i/24
loglevel 3
EOF
	run_in $n "ether-$n" "${WRAP[@]}" "$ETHER" -@include "$NET_TMP/ether-$n.cfg"
	eval "PID_ether_$n=$LAST_PID"
done
for n in A B; do
	wait_for 5 tap_up $n || fail "$n's TAP is not up"
	c=$(grep -c "^$NET_TMP/ether-$n.cfg:5: tunctl: accepted for compatibility" \
		"$NET_TMP/ether-$n.log")
	[ "$c" = 1 ] || fail "ether $n: $c tunctl notices, not 1"
	grep -q "instance $((59274 * 65536 + 7))" "$NET_TMP/ether-$n.log" ||
		fail "ether $n: not in instance proto * 65536 + instance"
done
wait_for 10 pings A 10.88.0.2 || fail "classic ether: A -> B failed"
say "classic ether configs meet: ping A -> B"

# status-verbose: 1 on A lists routes, 0 on B leaves them out (its cloud
# line still counts them)
grep -q '^route ' "$NET_TMP/A.status" || fail "status-verbose 1: A lists no route"
wait_for 5 grep -Eq '^cloud .* routes=[1-9]' "$NET_TMP/B.status" ||
	fail "status-verbose 0: B's cloud line counts no route"
! grep -q '^route ' "$NET_TMP/B.status" || fail "status-verbose 0: B lists routes"
say "status-verbose 0 leaves B's route lines out: $(grep '^cloud' "$NET_TMP/B.status" | sed 's/.* links=/links=/')"

# route_hop_penalization 1000: the hop to B costs 11 ms, not 1 ms, on top
# of the link's RTT (well under 10 ms here)
# metric_b: the metric of A's route via B, as A's status shows it
metric_b() {
	sed -n 's/^route addr=.* via=B metric=\([0-9]*\) .*/\1/p' \
		"$NET_TMP/A.status" | head -1
}
m=$(metric_b)
[ -n "$m" ] || fail "A has no route via B"
[ "$m" -ge 1100 ] || fail "route_hop_penalization 1000: metric $m via B, not >= 1100"
say "route via B costs $m (10 us units): the hop penalized"
# report_ping_changes_above 5000: the routes hear of a new link cost only
# when it moved by more than 5 ms. The link costs 100 (1 ms) until its
# first pong; a first pong later than the first probe (250 ms, on a busy
# machine) raises it, and the pong lowers it again, each told. Every cost
# told to the routes (A's debug log) moved by more than 500, and the route
# costs 1100 + the last one told (announcing every RTT sample, the first
# pong would move it to 1100 + RTT / 10 us).
told=$(sed -n 's/.*: link B: cost \([0-9]*\) told to the routes (was \([0-9]*\).*/\1 \2/p' \
	"$NET_TMP/A.log")
last=100
while read -r cost was; do
	[ -n "$cost" ] || continue
	d=$((cost > was ? cost - was : was - cost))
	[ "$d" -gt 500 ] ||
		fail "report_ping_changes_above 5000: cost $was -> $cost told (moved $((d * 10)) us)"
	last=$cost
done <<<"$told"
# (the status file is rewritten every 100 ms: it may lag the log)
wait_for 2 eval '[ "$(metric_b)" = $((1100 + last)) ]' ||
	fail "report_ping_changes_above 5000: metric $(metric_b), not 1100 + $last (the cost last told)"
m=$(metric_b)
say "costs told to the routes: $(echo $told | wc -w | awk '{ print $1 / 2 }'), metric $m = 1100 + $last"
cloud_check A B
say "ok"
