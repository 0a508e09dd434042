# NAT topologies for the namespace tests (sourced after lib.sh).
#
#   A 10.61.1.2 --lan-- N1 --wan 198.51.100.1--+
#                      10.61.1.1               |
#                                  198.51.100.254
#                                          I (the "internet" router)
#                                  203.0.113.254   192.0.2.254
#                                              |         |
#   B 10.62.1.2 --lan-- N2 --wan 203.0.113.1---+         +--- S 192.0.2.10
#                      10.62.1.1
#
# A and B sit behind the NATs N1 and N2; S is a public server. I routes
# between the three public nets and is the only hop between the NATs, so
# a packet that A sends with TTL 2 passes N1 and dies at I (a "TTL
# trick" punch opens N1's mapping without reaching N2).
#
#   nat_topo [A_KIND] [B_KIND]   build it (hosts A N1 I N2 B S); kinds:
#       easy  nftables masquerade: endpoint-independent mapping, the
#             source port kept when free (Linux's "port preservation")
#       hard  masquerade random: a new random port for every new
#             destination (endpoint-dependent, "symmetric")
#       fwd   easy plus UDP port $NAT_FWD_PORT (default 5300) of the
#             NAT's public address forwarded (dnat) to the inner host
#       none  plain router: the inner net is routed, nothing translated
#     Unsolicited packets to a NAT's public address reach its own stack
#     (port unreachable), as on a Linux box without a firewall; with
#     NAT_INPUT=drop the NAT drops them at input instead (as a router's
#     WAN firewall does) -- which also means they leave no conntrack
#     entry behind (an unconfirmed entry dies with the dropped packet).
#   nat_kind NS KIND [INNER_IP]  (re)write NAT NS's rules (table ip
#                      cvtnat) and flush its conntrack table
#   nat_ct NS          NS's UDP conntrack entries (conntrack -L or /proc)
#   nat_ct_flush NS... forget every conntrack entry (needs conntrack(8))
#   nat_coturn NS PORT [ADDR]  coturn as a STUN-only server (Binding
#                      requests, no relay, no auth) on ADDR:PORT in NS
#                      (ADDR defaults to $NAT_S_IP); waits until it
#                      listens; sets PID_coturn; log $NET_TMP/coturn.log
# tests/net/stun_probe.py is a STUN Binding client to ask it with.
# Addresses: NAT_A_IP NAT_B_IP NAT_S_IP, NAT1_IN NAT1_PUB, NAT2_IN
# NAT2_PUB, NAT_I1 NAT_I2 NAT_IS (I's address on each public net).

NAT_FWD_PORT=${NAT_FWD_PORT:-5300}
NAT_A_IP=10.61.1.2 NAT1_IN=10.61.1.1 NAT1_PUB=198.51.100.1
NAT_B_IP=10.62.1.2 NAT2_IN=10.62.1.1 NAT2_PUB=203.0.113.1
NAT_S_IP=192.0.2.10
NAT_I1=198.51.100.254 NAT_I2=203.0.113.254 NAT_IS=192.0.2.254

# nat_veth NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN
nat_veth() {
	ip -n "$PFX$1" link add "$2" type veth peer name "$5" \
		netns "$PFX$4" || hard_error "veth $1-$4"
	ip -n "$PFX$1" addr add "$3" dev "$2"
	ip -n "$PFX$4" addr add "$6" dev "$5"
	ip -n "$PFX$1" link set "$2" up
	ip -n "$PFX$4" link set "$5" up
}

nat_kind() {
	local n=$1 kind=$2 inner=${3:-} fwd= input=
	if [ -z "$inner" ]; then
		case $n in
		N1) inner=$NAT_A_IP ;;
		N2) inner=$NAT_B_IP ;;
		esac
	fi
	in_ns "$n" nft delete table ip cvtnat 2>/dev/null
	case $kind in
	none) nat_ct_flush "$n" 2>/dev/null; return 0 ;;
	easy | hard) ;;
	fwd)
		[ -n "$inner" ] || hard_error "nat_kind $n fwd: no inner host"
		fwd="chain pre { type nat hook prerouting priority dstnat;
			iifname \"wan\" udp dport $NAT_FWD_PORT dnat to $inner; }"
		;;
	*) hard_error "nat_kind: unknown kind $kind" ;;
	esac
	[ "${NAT_INPUT:-accept}" = drop ] &&
		input='chain in { type filter hook input priority 0;
			iifname "wan" ct state new drop; }'
	in_ns "$n" nft -f - <<NFT || hard_error "nft in $n"
table ip cvtnat {
	$fwd
	chain post { type nat hook postrouting priority srcnat;
		oifname "wan" masquerade $([ "$kind" = hard ] && echo random); }
	$input
}
NFT
	nat_ct_flush "$n" 2>/dev/null
	return 0
}

nat_topo() {
	local ka=${1:-easy} kb=${2:-easy} n
	command -v nft >/dev/null || skip "no nft"
	host A N1 I N2 B S
	nat_veth A lan "$NAT_A_IP/24" N1 lan "$NAT1_IN/24"
	nat_veth N1 wan "$NAT1_PUB/24" I w1 "$NAT_I1/24"
	nat_veth N2 wan "$NAT2_PUB/24" I w2 "$NAT_I2/24"
	nat_veth B lan "$NAT_B_IP/24" N2 lan "$NAT2_IN/24"
	nat_veth S lan "$NAT_S_IP/24" I ws "$NAT_IS/24"
	ip -n "$PFX"A route add default via "$NAT1_IN"
	ip -n "$PFX"B route add default via "$NAT2_IN"
	ip -n "$PFX"S route add default via "$NAT_IS"
	ip -n "$PFX"N1 route add default via "$NAT_I1"
	ip -n "$PFX"N2 route add default via "$NAT_I2"
	for n in N1 I N2; do
		in_ns $n sysctl -qw net.ipv4.ip_forward=1 ||
			hard_error "ip_forward in $n"
	done
	[ "$ka" = none ] && ip -n "$PFX"I route add 10.61.1.0/24 via "$NAT1_PUB"
	[ "$kb" = none ] && ip -n "$PFX"I route add 10.62.1.0/24 via "$NAT2_PUB"
	nat_kind N1 "$ka"
	nat_kind N2 "$kb"
}

nat_ct() {
	if command -v conntrack >/dev/null; then
		in_ns "$1" conntrack -L -p udp 2>/dev/null
	else
		in_ns "$1" grep -w udp /proc/net/nf_conntrack 2>/dev/null
	fi
	return 0
}

nat_ct_flush() {
	local n
	command -v conntrack >/dev/null || return 1
	for n in "$@"; do
		in_ns "$n" conntrack -F >/dev/null 2>&1
	done
	return 0
}

nat_coturn() {
	local n=$1 port=$2 addr=${3:-$NAT_S_IP}
	command -v turnserver >/dev/null || skip "no turnserver (coturn)"
	# -n: no config file; its own pid file and (unused) user db so that
	# nothing is shared with another instance or the system's coturn
	run_in "$n" coturn turnserver -n --stun-only --no-cli \
		--listening-ip "$addr" --listening-port "$port" \
		--no-tls --no-dtls --no-rfc5780 \
		--log-file stdout --simple-log \
		--pidfile "$NET_TMP/coturn-$n-$port.pid" \
		--userdb "$NET_TMP/coturn-$n-$port.db"
	PID_coturn=$LAST_PID
	wait_for 5 sh -c "ip netns exec '$PFX$n' ss -Hlun 'sport = :$port' |
		grep -q ." || { alive "$PID_coturn" ||
		hard_error "turnserver died (see coturn.log)"
		hard_error "turnserver not listening on $addr:$port"; }
}
