# bench/vpn-openvpn.sh: OpenVPN 2.6 in TAP mode, over UDP and over TCP,
# and in TUN mode over UDP (openvpn-udp-tun). B is the server ("mode
# server", client-to-client so it relays A<->C in the line), A and C are
# clients. TLS certificates (ECDSA P-256) made with certtool; data channel
# AES-256-GCM; tun-mtu 1400; no DCO (none for TAP; off in TUN mode too, to
# compare the same userspace data path). In TUN mode the server routes by
# IP address, so it is told each client's (topology subnet, ifconfig-push
# from client-config-dir); the bench still sets every address itself
# (ifconfig-noexec), as in TAP mode.

OVPN_DEV=tap	# tap, or tun (L3)

openvpn_check() {
	command -v openvpn >/dev/null || { echo "openvpn not installed"; return 1; }
	command -v certtool >/dev/null || { echo "certtool not installed"; return 1; }
}
openvpn_version() { openvpn --version | head -1 | cut -d' ' -f1-2; }
openvpn_udp_check() { openvpn_check; }
openvpn_tcp_check() { openvpn_check; }
openvpn_udp_version() { openvpn_version; }
openvpn_tcp_version() { openvpn_version; }
openvpn_udp_tun_check() { openvpn_check; }
openvpn_udp_tun_version() { openvpn_version; }
# openvpn_desc PROTO
openvpn_desc() {
	local t=
	[ "$OVPN_DEV" = tun ] && t=" (topology subnet)"
	echo "OpenVPN ${OVPN_DEV^^} over $1, TLS certs (ECDSA P-256)," \
		"data AES-256-GCM, B server + client-to-client$t"
}
openvpn_udp_desc() { openvpn_desc UDP; }
openvpn_tcp_desc() { openvpn_desc TCP; }
openvpn_udp_tun_desc() { OVPN_DEV=tun openvpn_desc UDP; }

# openvpn_conf NODE PROTO TOPO -> config file on stdout
openvpn_conf() {
	local n=$1 proto=$2 d=$WORK/pki
	cat <<-CONF
	dev cvb$OVPN_DEV
	dev-type $OVPN_DEV
	ca $d/ca.crt
	cert $d/$n.crt
	key $d/$n.key
	data-ciphers AES-256-GCM
	tls-version-min 1.2
	tun-mtu 1400
	disable-dco
	verb 3
	CONF
	if [ "$OVPN_DEV" = tun ]; then
		printf 'topology subnet\nifconfig-noexec\n'
		[ "$n" = b ] && cat <<-CONF
		ifconfig $O_B 255.255.255.0
		client-config-dir $WORK/openvpn/ccd
		CONF
	fi
	if [ "$n" = b ]; then
		cat <<-CONF
		mode server
		tls-server
		dh none
		client-to-client
		port 1194
		keepalive 10 60
		CONF
		[ "$proto" = udp ] && echo "proto udp4" || echo "proto tcp4-server"
		return 0
	fi
	cat <<-CONF
	client
	nobind
	remote-cert-tls server
	CONF
	[ "$proto" = udp ] && echo "proto udp4" || echo "proto tcp4-client"
	[ "$n" = a ] && echo "remote $U_BA 1194" || echo "remote $U_BC 1194"
}

openvpn_setup_proto() {
	local proto=$1 topo=$2 nodes n ip
	pki_make a b c || return 1
	if [ "$topo" = pair ]; then nodes="b a"; TARGET_IP=$O_B
	else nodes="b a c"; TARGET_IP=$O_C; fi
	mkdir -p "$WORK/openvpn/ccd"
	echo "ifconfig-push $O_A 255.255.255.0" >"$WORK/openvpn/ccd/a"
	echo "ifconfig-push $O_C 255.255.255.0" >"$WORK/openvpn/ccd/c"
	for n in $nodes; do
		openvpn_conf "$n" "$proto" >"$WORK/openvpn/$n.conf"
		spawn "$n" "openvpn-$n" openvpn --config "$WORK/openvpn/$n.conf"
	done
	for n in $nodes; do
		case $n in a) ip=$O_A ;; b) ip=$O_B ;; c) ip=$O_C ;; esac
		ns_ifup "$(node_ns "$n")" "cvb$OVPN_DEV" "$ip/24" || return 1
	done
}

openvpn_udp_setup() { openvpn_setup_proto udp "$1"; }
openvpn_tcp_setup() { openvpn_setup_proto tcp "$1"; }
openvpn_udp_tun_setup() { OVPN_DEV=tun openvpn_setup_proto udp "$1"; }
openvpn_udp_teardown() { :; }
openvpn_tcp_teardown() { :; }
openvpn_udp_tun_teardown() { :; }
